/**
 * Decodes what a terminal in raw mode sends into keys: printable text,
 * Enter, Backspace, the cursor keys (CSI and SS3 forms), Home/End, Delete,
 * Page Up/Down, Tab, Esc and the Ctrl letters; and bracketed pastes (a paste
 * is one text key, its line breaks made spaces, so pasting never presses
 * Enter or answers a prompt).
 *
 * @module
 */
import { sanitize } from "./text.ts";

/** A named key. */
export type KeyName =
  | "enter"
  | "backspace"
  | "delete"
  | "left"
  | "right"
  | "up"
  | "down"
  | "home"
  | "end"
  | "pageup"
  | "pagedown"
  | "tab"
  | "shift-tab"
  | "escape"
  | "word-left"
  | "word-right"
  | "unknown";

/** One key press. */
export type Key =
  /** Printable text (one or more characters); `paste` when it was pasted. */
  | { readonly kind: "text"; readonly text: string; readonly paste?: boolean }
  /** A named key. */
  | { readonly kind: "key"; readonly name: KeyName }
  /** Ctrl + a letter (`c`, `d`, `u`, …). */
  | { readonly kind: "ctrl"; readonly letter: string };

const CSI_KEYS: Readonly<Record<string, KeyName>> = {
  A: "up",
  B: "down",
  C: "right",
  D: "left",
  H: "home",
  F: "end",
  Z: "shift-tab",
  "1~": "home",
  "7~": "home",
  "4~": "end",
  "8~": "end",
  "3~": "delete",
  "5~": "pageup",
  "6~": "pagedown",
  "1;5C": "word-right",
  "1;5D": "word-left",
  "1;3C": "word-right",
  "1;3D": "word-left",
};

/**
 * Splits one chunk of terminal input into keys.
 *
 * @param chunk What one read returned (escape sequences arrive whole).
 * @returns The keys, in order.
 *
 * @example
 * ```ts
 * import { decodeKeys } from "./keys.ts";
 * const keys = decodeKeys("hi\x1b[D\r\x03");
 * console.assert(keys.length === 4 && keys[3]?.kind === "ctrl");
 * ```
 */
export function decodeKeys(chunk: string): Key[] {
  const keys: Key[] = [];
  let text = "";
  const flush = () => {
    if (text !== "") keys.push({ kind: "text", text });
    text = "";
  };
  let i = 0;
  while (i < chunk.length) {
    const c = chunk[i]!;
    const code = c.charCodeAt(0);
    if (c === "\x1b") {
      flush();
      const next = chunk[i + 1];
      if (next === "[" || next === "O") {
        // CSI / SS3: parameters, then one final byte in @..~
        let j = i + 2;
        while (j < chunk.length && /[0-9;]/.test(chunk[j]!)) j++;
        const body = chunk.slice(i + 2, j + 1);
        keys.push({ kind: "key", name: CSI_KEYS[body] ?? "unknown" });
        i = j + 1;
      } else if (next === "b" || next === "f") {
        keys.push({
          kind: "key",
          name: next === "b" ? "word-left" : "word-right",
        });
        i += 2;
      } else if (next === "\x7f") {
        keys.push({ kind: "ctrl", letter: "w" });
        i += 2;
      } else {
        keys.push({ kind: "key", name: "escape" });
        i += 1;
      }
      continue;
    }
    if (c === "\r" || c === "\n") {
      flush();
      keys.push({ kind: "key", name: "enter" });
      // a \r\n pair is one Enter
      i += c === "\r" && chunk[i + 1] === "\n" ? 2 : 1;
      continue;
    }
    if (code === 0x7f || code === 0x08) {
      flush();
      keys.push({ kind: "key", name: "backspace" });
    } else if (code === 0x09) {
      flush();
      keys.push({ kind: "key", name: "tab" });
    } else if (code < 0x20) {
      flush();
      keys.push({
        kind: "ctrl",
        letter: String.fromCharCode(code + 0x60),
      });
    } else if (code >= 0x80 && code <= 0x9f) {
      // C1 controls: never text
    } else {
      text += c;
    }
    i++;
  }
  flush();
  return keys;
}

const PASTE_START = "\x1b[200~";
const PASTE_END = "\x1b[201~";

/** Turns terminal input into keys across reads, with bracketed paste. */
export class KeyDecoder {
  #pasting = false;
  #paste = "";
  #pending = "";

  /**
   * Decodes the next chunk of input.
   *
   * @param chunk What one read returned.
   * @returns The keys it completes.
   *
   * @example
   * ```ts
   * import { KeyDecoder } from "./keys.ts";
   * const d = new KeyDecoder();
   * console.assert(d.push("a\x1b[200~x\ry").length === 1);
   * const keys = d.push("z\x1b[201~");
   * console.assert(keys[0]?.kind === "text" && keys[0].text === "x yz");
   * ```
   */
  push(chunk: string): Key[] {
    let input = this.#pending + chunk;
    this.#pending = "";
    const keys: Key[] = [];
    while (input !== "") {
      if (!this.#pasting) {
        const at = input.indexOf(PASTE_START);
        if (at < 0) {
          keys.push(...decodeKeys(input));
          break;
        }
        keys.push(...decodeKeys(input.slice(0, at)));
        input = input.slice(at + PASTE_START.length);
        this.#pasting = true;
        this.#paste = "";
        continue;
      }
      const end = input.indexOf(PASTE_END);
      if (end < 0) {
        // keep a possible start of the end marker for the next read
        let keep = 0;
        for (let n = Math.min(PASTE_END.length - 1, input.length); n > 0; n--) {
          if (PASTE_END.startsWith(input.slice(-n))) {
            keep = n;
            break;
          }
        }
        this.#paste += input.slice(0, input.length - keep);
        this.#pending = input.slice(input.length - keep);
        break;
      }
      this.#paste += input.slice(0, end);
      input = input.slice(end + PASTE_END.length);
      this.#pasting = false;
      // one line: breaks become spaces, no control characters survive
      const text = sanitize(this.#paste);
      this.#paste = "";
      if (text !== "") keys.push({ kind: "text", text, paste: true });
    }
    return keys;
  }
}
