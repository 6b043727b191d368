/**
 * The guest-side half of the js engine: a script evaluated in every fresh
 * QuickJS context before the capsule's module. It returns the invoker the
 * engine calls for each action, with the intrinsics it needs captured up front
 * (a capsule that later replaces `JSON` or `Object.prototype.hasOwnProperty`
 * only breaks itself).
 *
 * The invoker `(ns, action, payloadJson)`:
 * - resolves the handler: the default export made by `defineCapsule()`
 *   (`kind === CAPSULE_KIND`) is authoritative — its `handlers` are looked up by
 *   own property; otherwise a named exported function called `action`;
 * - returns `null` when there is no such handler (the engine reports
 *   `CAPSULE_NOT_FOUND`);
 * - otherwise returns a promise of the handler's result as a JSON string
 *   (`undefined` becomes `null`; a value JSON cannot represent rejects).
 *
 * @module
 */
import { CAPSULE_KIND } from "../../../../sdk/capsule.ts";

/** File name the bootstrap script is evaluated under (shows in guest stacks). */
export const BOOTSTRAP_FILE = "astrid:bootstrap.js";

/**
 * A global-scope script whose value is a factory
 * `(capsule: string, configJson: string) => invoker`.
 */
export const BOOTSTRAP_SOURCE = `(function () {
  "use strict";
  const parse = JSON.parse;
  const stringify = JSON.stringify;
  const hasOwn = Object.prototype.hasOwnProperty;
  const apply = Reflect.apply;
  const freeze = Object.freeze;
  const P = Promise;
  const KIND = ${JSON.stringify(CAPSULE_KIND)};
  function own(obj, key) {
    return obj !== null && (typeof obj === "object" || typeof obj === "function") &&
      apply(hasOwn, obj, [key]);
  }
  function lookup(ns, action) {
    const def = own(ns, "default") ? ns.default : undefined;
    if (def !== null && typeof def === "object" && def.kind === KIND) {
      const handlers = def.handlers;
      if (own(handlers, action) && typeof handlers[action] === "function") {
        return [handlers[action], handlers];
      }
      return undefined;
    }
    if (action !== "default" && own(ns, action) && typeof ns[action] === "function") {
      return [ns[action], undefined];
    }
    return undefined;
  }
  return function factory(capsule, configJson) {
    const config = freeze(parse(configJson));
    return function invoke(ns, action, payloadJson) {
      const found = lookup(ns, action);
      if (found === undefined) return null;
      const context = freeze({ capsule: capsule, action: action, config: config });
      return new P(function (resolve) {
        resolve(apply(found[0], found[1], [parse(payloadJson), context]));
      }).then(function (value) {
        const text = stringify(value === undefined ? null : value);
        if (typeof text !== "string") {
          throw new TypeError("The handler of '" + action + "' returned a value JSON cannot represent");
        }
        return text;
      });
    };
  };
})()`;
