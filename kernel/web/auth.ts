/**
 * The console's own logins: one-time login tokens (single use, short
 * expiry), browser sessions behind an `HttpOnly; SameSite=Strict` cookie,
 * and a synchronizer CSRF token per session. All in memory: restarting
 * `astrid web` logs every browser out. Tokens are 256 random bits and are
 * compared in constant time; a session's cookie value is never its CSRF
 * token.
 *
 * @module
 */
import { constantTimeEqual } from "../api/router.ts";

/** How long a one-time login URL stays valid (5 minutes). */
export const LOGIN_TOKEN_TTL_MS = 5 * 60_000;
/** How long a browser session lives without a request (12 hours). */
export const SESSION_IDLE_MS = 12 * 60 * 60_000;
/** The most browser sessions kept; the least recently used goes first. */
export const MAX_SESSIONS = 64;
/** The most unused login tokens kept. */
const MAX_LOGIN_TOKENS = 16;

/** A logged-in browser. */
export interface ConsoleSession {
  /** The cookie value. */
  readonly id: string;
  /** The synchronizer token every state-changing request must carry. */
  readonly csrf: string;
  /** Last use, ms since the epoch. */
  seen: number;
}

/**
 * A random token: 32 bytes, base64url.
 *
 * @returns The token.
 */
export function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** One-time login tokens and browser sessions. */
export class ConsoleAuth {
  readonly #now: () => number;
  readonly #secret: (() => string) | undefined;
  readonly #tokens = new Map<string, number>();
  readonly #sessions = new Map<string, ConsoleSession>();

  /**
   * @param options `now` (the clock); `secret`: a long-lived login secret
   *   (the headless server's bearer token) accepted by the login form
   *   besides one-time tokens.
   */
  constructor(
    options: { now?: () => number; secret?: () => string } = {},
  ) {
    this.#now = options.now ?? Date.now;
    this.#secret = options.secret;
  }

  /**
   * Issues a one-time login token (valid {@linkcode LOGIN_TOKEN_TTL_MS}).
   *
   * @returns The token.
   */
  issueLoginToken(): string {
    this.#sweep();
    while (this.#tokens.size >= MAX_LOGIN_TOKENS) {
      this.#tokens.delete(this.#tokens.keys().next().value!);
    }
    const token = randomToken();
    this.#tokens.set(token, this.#now() + LOGIN_TOKEN_TTL_MS);
    return token;
  }

  /**
   * Exchanges a login token (or the long-lived secret) for a new session.
   * A one-time token is spent whether or not the exchange succeeds later.
   *
   * @param given What the browser presented.
   * @returns The session, or `null` when the token is unknown, spent or expired.
   */
  login(given: string): ConsoleSession | null {
    this.#sweep();
    let ok = false;
    if (given.length > 0 && given.length <= 512) {
      for (const [token, expires] of this.#tokens) {
        if (constantTimeEqual(token, given)) {
          this.#tokens.delete(token);
          ok = expires > this.#now();
        }
      }
      const secret = this.#secret?.();
      if (!ok && secret && constantTimeEqual(secret, given)) ok = true;
    }
    if (!ok) return null;
    while (this.#sessions.size >= MAX_SESSIONS) {
      let oldest: ConsoleSession | undefined;
      for (const s of this.#sessions.values()) {
        if (!oldest || s.seen < oldest.seen) oldest = s;
      }
      this.#sessions.delete(oldest!.id);
    }
    const session = {
      id: randomToken(),
      csrf: randomToken(),
      seen: this.#now(),
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  /**
   * The session of a cookie value, refreshed; `null` when unknown or idle too long.
   *
   * @param id The cookie value.
   * @returns The session.
   */
  session(id: string | undefined): ConsoleSession | null {
    if (!id) return null;
    const s = this.#sessions.get(id);
    if (!s) return null;
    const now = this.#now();
    if (now - s.seen > SESSION_IDLE_MS) {
      this.#sessions.delete(id);
      return null;
    }
    s.seen = now;
    return s;
  }

  /**
   * Ends a session.
   *
   * @param id The cookie value.
   */
  logout(id: string): void {
    this.#sessions.delete(id);
  }

  /**
   * Whether a request's CSRF token is the session's (constant time).
   *
   * @param session The session.
   * @param given The token sent.
   * @returns Whether it matches.
   */
  checkCsrf(session: ConsoleSession, given: string | null): boolean {
    return given !== null && given !== "" &&
      constantTimeEqual(given, session.csrf);
  }

  #sweep(): void {
    const now = this.#now();
    for (const [t, expires] of this.#tokens) {
      if (expires <= now) this.#tokens.delete(t);
    }
  }
}
