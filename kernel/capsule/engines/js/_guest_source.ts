/**
 * The guest-side half of the js engine: a script evaluated in every fresh
 * QuickJS context before the capsule's module. It returns the invoker the
 * engine calls for each action, with the intrinsics it needs captured up front
 * (a capsule that later replaces `JSON` or `Object.prototype.hasOwnProperty`
 * only breaks itself).
 *
 * The invoker `(ns, action, payloadJson, pathsJson?, ...texts)`:
 * - resolves the handler: the default export made by `defineCapsule()`
 *   (`kind === CAPSULE_KIND`) is authoritative — its `handlers` are looked up by
 *   own property; otherwise a named exported function called `action`;
 * - returns `null` when there is no such handler (the engine reports
 *   `CAPSULE_NOT_FOUND`);
 * - otherwise parses the payload, puts back its lazy fields (`pathsJson`:
 *   the JSON array of their key paths, `texts` their JSON; see
 *   `./_lazy_fields.ts`) as accessors that parse on first access, each text
 *   kept until then under the payload object's `Symbol.for(RAW_JSON_KEY)`
 *   (read by the SDK's `rawJsonOf`), and returns a promise of the handler's
 *   result as a JSON string (`undefined` becomes `null`; a value JSON cannot
 *   represent rejects).
 *
 * @module
 */
import { CAPSULE_KIND, RAW_JSON_KEY } from "../../../../sdk/capsule.ts";

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
  const define = Object.defineProperty;
  const create = Object.create;
  const P = Promise;
  const KIND = ${JSON.stringify(CAPSULE_KIND)};
  const RAW = Symbol.for(${JSON.stringify(RAW_JSON_KEY)});
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
  function lazyField(obj, key, text) {
    let raw = own(obj, RAW) ? obj[RAW] : undefined;
    if (raw === undefined) {
      raw = create(null);
      define(obj, RAW, { value: raw, configurable: true });
    }
    raw[key] = text;
    function settle(value) {
      delete raw[key];
      define(obj, key, { value: value, writable: true, enumerable: true, configurable: true });
      return value;
    }
    define(obj, key, {
      get: function () { return settle(parse(text)); },
      set: function (value) { settle(value); },
      enumerable: true,
      configurable: true,
    });
  }
  function withLazy(payload, pathsJson, texts) {
    if (pathsJson === undefined) return payload;
    const paths = parse(pathsJson);
    for (let i = 0; i < paths.length; i++) {
      const path = paths[i];
      let obj = payload;
      for (let j = 0; j < path.length - 1; j++) obj = obj[path[j]];
      lazyField(obj, path[path.length - 1], texts[i]);
    }
    return payload;
  }
  return function factory(capsule, configJson) {
    const config = freeze(parse(configJson));
    return function invoke(ns, action, payloadJson, pathsJson, ...texts) {
      const found = lookup(ns, action);
      if (found === undefined) return null;
      const context = freeze({ capsule: capsule, action: action, config: config });
      return new P(function (resolve) {
        const payload = withLazy(parse(payloadJson), pathsJson, texts);
        resolve(apply(found[0], found[1], [payload, context]));
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
