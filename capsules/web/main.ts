/**
 * The `web` capsule: one tool, `fetch_url`, that reads a page from a granted
 * host. The kernel decides every request (grant, SSRF policy, audit); this
 * capsule only shapes the answer for the model.
 */
import { defineCapsule, host } from "@astrid/sdk";

/** The most text of a page the model sees. */
const MAX_CHARS = 20_000;

function visibleText(body: string, contentType: string): string {
  if (!/html/i.test(contentType)) return body;
  return body
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&nbsp;/g, " ")
    .replace(/&amp;/g, "&")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/[ \t]+/g, " ")
    .replace(/\n\s*\n+/g, "\n\n")
    .trim();
}

export default defineCapsule({
  tools: {
    fetch_url: {
      description:
        "Fetches a web page (HTTPS, GET) and returns its text. Only hosts the operator granted are reachable; others are refused.",
      input_schema: {
        type: "object",
        properties: {
          url: { type: "string", description: "An https:// URL" },
        },
        required: ["url"],
      },
      execute: async (args: { url?: unknown }) => {
        if (typeof args.url !== "string" || !/^https:\/\//i.test(args.url)) {
          throw new Error("fetch_url needs an https:// URL in 'url'");
        }
        const res = await host.http.request({ url: args.url, method: "GET" });
        const type = res.headers["content-type"] ?? "";
        const text = visibleText(res.body, type);
        const cut = text.length > MAX_CHARS;
        return `HTTP ${res.status}\n\n${text.slice(0, MAX_CHARS)}${
          cut
            ? `\n\n[truncated: ${text.length - MAX_CHARS} more characters]`
            : ""
        }`;
      },
    },
  },
});
