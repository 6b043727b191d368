/**
 * What a page handler of the console receives: the API client, the shell
 * (base path, CSRF token), the request, its path parameters, the checked
 * form, the flash of the last action, and who is asking (for the audit of
 * approval answers).
 *
 * @module
 */
import type { ApiClient } from "../api/client.ts";
import type { AnswerOrigin } from "../api/contract.ts";
import type { Flash, Shell } from "./layout.ts";

/** A commit started from the console, possibly waiting for approvals. */
export interface CommitJob {
  /** When it started, ms since the epoch. */
  readonly started: number;
  /** Resolves with the committed changes; rejects with the API's error. */
  readonly done: Promise<string[]>;
  /** Set when done. */
  result?: { readonly committed: string[] } | { readonly error: string };
}

/** A request to a page of the console. */
export interface PageContext {
  /** The daemon's API. */
  readonly api: ApiClient;
  /** Base path and CSRF token. */
  readonly shell: Shell;
  /** The request. */
  readonly request: Request;
  /** Its URL. */
  readonly url: URL;
  /** The `:name` segments of the page's path. */
  readonly params: Readonly<Record<string, string>>;
  /** The form of a POST (its CSRF token already checked). */
  readonly form: URLSearchParams;
  /** The flash of the previous action, shown once. */
  readonly flash: Flash | undefined;
  /** Sets the flash of the next page. */
  setFlash(flash: Flash): void;
  /** Who asks, for the audit of an approval answer. */
  readonly origin: AnswerOrigin;
  /** The script sent it (`accept: application/json`): answer JSON, not a page. */
  readonly wantsJson: boolean;
  /** Aborted when the console closes: ends the open event streams. */
  readonly closing: AbortSignal;
  /** The commits started from the console, by session. */
  readonly commits: Map<string, CommitJob>;
}

/** A page handler. */
export type PageHandler = (ctx: PageContext) => Promise<Response>;
