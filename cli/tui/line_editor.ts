/**
 * The chat's input line: a one-line editor with a cursor, the usual
 * editing keys (Home/End, Ctrl-A/E/U/K/W, word moves) and a history walked
 * with Up/Down that keeps the draft being typed.
 *
 * @module
 */
import type { Key } from "./keys.ts";
import { codePointWidth, displayWidth } from "./text.ts";

/** What a key did to the editor. */
export type EditResult =
  /** Enter: the line, now cleared and added to the history. */
  | { readonly kind: "submit"; readonly line: string }
  /** The text or cursor changed. */
  | { readonly kind: "changed" }
  /** The editor does not use this key. */
  | { readonly kind: "ignored" };

const CHANGED: EditResult = { kind: "changed" };
const IGNORED: EditResult = { kind: "ignored" };

/** A one-line editor with history. */
export class LineEditor {
  #chars: string[] = [];
  #cursor = 0;
  readonly #history: string[] = [];
  #historyAt = 0;
  #draft = "";
  readonly #maxHistory: number;

  /**
   * @param history Earlier lines, oldest first.
   * @param maxHistory How many lines the history keeps.
   */
  constructor(history: readonly string[] = [], maxHistory = 200) {
    this.#maxHistory = maxHistory;
    this.#history.push(...history.slice(-maxHistory));
    this.#historyAt = this.#history.length;
  }

  /** The text. */
  get text(): string {
    return this.#chars.join("");
  }

  /** The cursor, in characters from the start. */
  get cursor(): number {
    return this.#cursor;
  }

  /** The history, oldest first. */
  get history(): readonly string[] {
    return this.#history;
  }

  /**
   * Replaces the text and puts the cursor at its end.
   *
   * @param text The new text.
   */
  set(text: string): void {
    this.#chars = [...text];
    this.#cursor = this.#chars.length;
  }

  /** Empties the line. */
  clear(): void {
    this.set("");
    this.#historyAt = this.#history.length;
  }

  /**
   * Applies one key.
   *
   * @param key The key.
   * @returns What it did.
   */
  handle(key: Key): EditResult {
    if (key.kind === "text") {
      const add = [...key.text];
      this.#chars.splice(this.#cursor, 0, ...add);
      this.#cursor += add.length;
      return CHANGED;
    }
    if (key.kind === "ctrl") return this.#ctrl(key.letter);
    switch (key.name) {
      case "enter":
        return this.#submit();
      case "backspace":
        if (this.#cursor === 0) return CHANGED;
        this.#chars.splice(this.#cursor - 1, 1);
        this.#cursor--;
        return CHANGED;
      case "delete":
        this.#chars.splice(this.#cursor, 1);
        return CHANGED;
      case "left":
        this.#cursor = Math.max(0, this.#cursor - 1);
        return CHANGED;
      case "right":
        this.#cursor = Math.min(this.#chars.length, this.#cursor + 1);
        return CHANGED;
      case "home":
        this.#cursor = 0;
        return CHANGED;
      case "end":
        this.#cursor = this.#chars.length;
        return CHANGED;
      case "word-left":
        this.#cursor = this.#wordStart();
        return CHANGED;
      case "word-right": {
        let i = this.#cursor;
        while (i < this.#chars.length && this.#chars[i] === " ") i++;
        while (i < this.#chars.length && this.#chars[i] !== " ") i++;
        this.#cursor = i;
        return CHANGED;
      }
      case "up":
        return this.#walk(-1);
      case "down":
        return this.#walk(1);
      default:
        return IGNORED;
    }
  }

  /**
   * The visible part of the line for a field `columns` wide, scrolled so
   * the cursor is always inside it.
   *
   * @param columns The field's width.
   * @returns The text to show and the cursor's column in it.
   */
  view(columns: number): { text: string; cursorColumn: number } {
    const room = Math.max(1, columns - 1);
    let start = 0;
    const widthBetween = (a: number, b: number) =>
      displayWidth(this.#chars.slice(a, b).join(""));
    while (widthBetween(start, this.#cursor) > room) start++;
    let text = "";
    let w = 0;
    for (let i = start; i < this.#chars.length; i++) {
      const cw = codePointWidth(this.#chars[i]!.codePointAt(0)!);
      if (w + cw > columns) break;
      text += this.#chars[i];
      w += cw;
    }
    return { text, cursorColumn: widthBetween(start, this.#cursor) };
  }

  #ctrl(letter: string): EditResult {
    switch (letter) {
      case "a":
        this.#cursor = 0;
        return CHANGED;
      case "e":
        this.#cursor = this.#chars.length;
        return CHANGED;
      case "b":
        return this.handle({ kind: "key", name: "left" });
      case "f":
        return this.handle({ kind: "key", name: "right" });
      case "u":
        this.#chars.splice(0, this.#cursor);
        this.#cursor = 0;
        return CHANGED;
      case "k":
        this.#chars.splice(this.#cursor);
        return CHANGED;
      case "w": {
        const start = this.#wordStart();
        this.#chars.splice(start, this.#cursor - start);
        this.#cursor = start;
        return CHANGED;
      }
      case "p":
        return this.#walk(-1);
      case "n":
        return this.#walk(1);
      default:
        return IGNORED;
    }
  }

  #wordStart(): number {
    let i = this.#cursor;
    while (i > 0 && this.#chars[i - 1] === " ") i--;
    while (i > 0 && this.#chars[i - 1] !== " ") i--;
    return i;
  }

  #submit(): EditResult {
    const line = this.text;
    if (line.trim() !== "" && this.#history.at(-1) !== line) {
      this.#history.push(line);
      if (this.#history.length > this.#maxHistory) this.#history.shift();
    }
    this.#historyAt = this.#history.length;
    this.#draft = "";
    this.set("");
    return { kind: "submit", line };
  }

  #walk(step: number): EditResult {
    const to = this.#historyAt + step;
    if (to < 0 || to > this.#history.length) return CHANGED;
    if (this.#historyAt === this.#history.length) this.#draft = this.text;
    this.#historyAt = to;
    this.set(to === this.#history.length ? this.#draft : this.#history[to]!);
    return CHANGED;
  }
}
