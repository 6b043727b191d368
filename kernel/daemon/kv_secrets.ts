/**
 * Secret values held by the kernel in its store (namespace
 * `{principal}:secret:{capsule}`). Capsules can only ask whether a secret
 * exists; the value is substituted by the kernel into HTTP headers for granted
 * hosts (see `kernel/abi/http_calls.ts`).
 *
 * @module
 */
import type { CapsuleId, PrincipalId } from "../core/ids.ts";
import type { Store } from "../store/store.ts";
import type { SecretStore } from "../abi/ports.ts";

/** A {@linkcode SecretStore} over the kernel's store. */
export class KvSecretStore implements SecretStore {
  #store: Store;
  #principal: PrincipalId;

  /**
   * @param store The kernel store.
   * @param principal Whose secrets.
   */
  constructor(store: Store, principal: PrincipalId) {
    this.#store = store;
    this.#principal = principal;
  }

  /** @inheritdoc */
  async get(capsule: CapsuleId, name: string): Promise<string | null> {
    const e = await this.#store.get([
      `${this.#principal}:secret:${capsule}`,
      name,
    ]);
    return typeof e?.value === "string" ? e.value : null;
  }

  /** @inheritdoc */
  async set(capsule: CapsuleId, name: string, value: string): Promise<void> {
    await this.#store.set(
      [`${this.#principal}:secret:${capsule}`, name],
      value,
    );
  }
}
