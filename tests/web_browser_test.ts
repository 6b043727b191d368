/**
 * The web console in a real browser: Debian's Chromium driven by
 * `puppeteer-core`, against a real daemon subprocess with the replay
 * provider and `astrid web` as a subprocess. One browser for every step:
 * a failed login, the one-time login, a new session, a turn streaming
 * live that waits for an approval answered in the page and continues, a
 * CSRF-less POST refused, a diff reviewed and committed (its approval
 * answered on the approvals page), the chain verified, the capsules and
 * budgets pages. A screenshot of each page goes to `test-artifacts/web/`.
 *
 * Skipped (with a message) when `/usr/bin/chromium` is missing; `.ci/setup`
 * installs it.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { AGENT } from "./api_fixture_test.ts";
import { CLI_MAIN, CLI_PERMS } from "./cli_fixture_test.ts";
import {
  installCapsules,
  spawnDaemonProcess,
  tempHome,
} from "./daemon_fixture_test.ts";

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = path.resolve(import.meta.dirname ?? ".", "../test-artifacts/web");
const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (!hasChromium) {
  // deno-lint-ignore no-console -- says why the browser tests are skipped
  console.warn(
    `web browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`,
  );
}

/** A transcript: a command (it asks), then a write into the overlay. */
const TRANSCRIPT = {
  turns: [
    {
      text: "Running a command.",
      tool_calls: [{ name: "bash", arguments: { command: "echo hi" } }],
    },
    { text: "It said: <script>alert(1)</script> stays text." },
    {
      text: "Writing b.txt.",
      tool_calls: [{
        name: "write_file",
        arguments: { path: "b.txt", content: "beta\n" },
      }],
    },
    { text: "Done." },
  ],
};

/** Starts `astrid web --port 0` and reads its login URL. */
async function startWeb(env: Record<string, string>, cwd: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...CLI_PERMS, CLI_MAIN, "web", "--port", "0"],
    env,
    clearEnv: true,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = Date.now() + 60_000;
  while (!/login\?token=\S+/.test(text)) {
    if (Date.now() > deadline) throw new Error(`no login URL: ${text}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`astrid web ended: ${text} ${await stderr}`);
    text += value;
  }
  const url = text.match(/(http:\/\/\S+\/login\?token=\S+)/)![1]!;
  return {
    url,
    async stop(): Promise<Deno.CommandStatus> {
      try {
        child.kill("SIGTERM");
      } catch {
        // silent-ok: already gone
      }
      await reader.cancel().catch(() => {});
      await stderr;
      return await child.status;
    },
  };
}

Deno.test({
  name:
    "web console in Chromium: log in, watch a turn, answer its approval and see it continue, refuse a CSRF-less POST, review and commit a diff, verify the chain",
  ignore: !hasChromium,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { default: puppeteer } = await import("puppeteer-core");
    await using h = await tempHome();
    await installCapsules(h, [...AGENT, "shell"]);
    const project = path.join(h.workspace, "proj");
    await Deno.mkdir(project);
    const transcript = path.join(h.workspace, "t.json");
    await Deno.writeTextFile(transcript, JSON.stringify(TRANSCRIPT));
    const env = {
      ...h.env,
      ASTRID_PROVIDER: "replay",
      ASTRID_REPLAY_FILE: transcript,
    };
    await spawnDaemonProcess({ ...h, env });
    await Deno.mkdir(SHOTS, { recursive: true });
    const web = await startWeb(env, project);
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      // The CI runs as root, where Chromium's own sandbox cannot start.
      args: ["--no-sandbox"],
      headless: true,
      timeout: 30_000,
    });
    const page = await browser.newPage();
    try {
      await page.setViewport({ width: 420, height: 860 });
      page.setDefaultTimeout(20_000);
      page.setDefaultNavigationTimeout(20_000);
      const shot = (name: string, fullPage = true) =>
        page.screenshot({
          path: path.join(SHOTS, `${name}.png`) as `${string}.png`,
          fullPage,
        });
      const text = (s: string) => `::-p-text(${JSON.stringify(s)})`;
      const inner = (selector: string) =>
        page.$eval(
          selector,
          (e) => (e as unknown as { innerText: string }).innerText,
        );
      /** Clicks something that navigates, and waits for the new page. */
      const go = async (selector: string) => {
        await Promise.all([page.waitForNavigation(), page.click(selector)]);
      };
      const origin = new URL(web.url).origin;

      // A wrong token is refused; the printed one logs in and leaves the address bar clean.
      const bad = await page.goto(`${origin}/login?token=wrong`);
      assert.equal(bad?.status(), 401);
      await page.waitForSelector(text("invalid, already used or expired"));
      await shot("login-failed");
      await page.goto(web.url);
      assert.equal(new URL(page.url()).pathname, "/sessions");
      assert.ok(!page.url().includes("token"));
      const cookies = await browser.cookies();
      assert.equal(cookies.length, 1);
      assert.equal(cookies[0]?.httpOnly, true);
      assert.equal(cookies[0]?.sameSite, "Strict");
      // The one-time URL does not work twice.
      const other = await browser.newPage();
      assert.equal((await other.goto(web.url))?.status(), 401);
      await other.close();

      // A new session in the project.
      await page.locator("#workspace").fill(project);
      await shot("sessions");
      await go(text("New session"));
      assert.match(new URL(page.url()).pathname, /^\/sessions\/[^/]+$/);
      await page.waitForSelector('#live[data-connected="1"]');

      // A turn streams live and waits for an approval, answered in the page.
      await page.locator("#text").fill("Say hi with a command");
      await page.click(text("Send"));
      await page.waitForSelector("#turn .approval");
      assert.match(await inner("#turn .approval"), /echo hi/);
      await shot("session-approval");
      await page.click('#turn .approval button[data-decision="allow_once"]');
      await page.waitForSelector("#turn .done");
      const turnText = await inner("#turn");
      assert.match(
        turnText,
        /It said: <script>alert\(1\)<\/script> stays text\./,
      );
      assert.match(turnText, /decision: allow_once/);
      assert.equal((await page.$$("#turn script")).length, 0);
      await shot("session-live");

      // A POST without the CSRF token is refused, from the page itself.
      const refused = await page.evaluate(async (ws) => {
        const r = await fetch("/sessions", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ workspace: ws }),
        });
        return r.status;
      }, project);
      assert.equal(refused, 403);

      // A second turn writes b.txt into the overlay.
      await page.locator("#text").fill("Write b.txt");
      await page.click(text("Send"));
      await page.waitForFunction(
        'document.querySelectorAll("#turn .done").length >= 2',
      );

      // Review the diff and commit it; the commit's approval is answered on the approvals page.
      await go(text("Review changes"));
      await page.waitForSelector(text("+beta"));
      await shot("workspace");
      await go(text("Commit selected"));
      assert.match(page.url(), /\/approvals/);
      await page.waitForSelector(".approval");
      await shot("approvals");
      await go('.approval button[value="allow_once"]');
      assert.match(page.url(), /\/approvals/);
      const written = await (async () => {
        for (let i = 0; i < 100; i++) {
          const t = await Deno.readTextFile(path.join(project, "b.txt"))
            .catch(() => null);
          if (t !== null) return t;
          await new Promise((r) => setTimeout(r, 100));
        }
        return null;
      })();
      assert.equal(written, "beta\n");
      await page.goto(`${origin}/sessions`);
      await go(text("Say hi with a command"));
      await go(text("Review changes"));
      await page.waitForSelector(text("No changes wait in the overlay."));

      // The audit chain: browse, find the answers given here, verify.
      await go(`header nav a[href="/audit"]`);
      await page.waitForSelector(text("approval_answer"));
      await shot("audit", false);
      // The answers given here are audited with via web and the browser's address.
      await page.goto(`${origin}/audit?action=approval_answer`);
      assert.equal((await page.$$("tbody tr")).length, 2);
      await go("tbody tr a");
      const entry = JSON.parse(await inner("main pre"));
      assert.deepEqual(entry.proof.on_behalf_of, {
        via: "web",
        address: "127.0.0.1",
      });
      await go(text("All entries"));
      await go(text("Verify the chain"));
      await page.waitForSelector("#verify-result");
      assert.match(await inner("#verify-result"), /^Verified/);
      await shot("audit-verify");

      await go(`header nav a[href="/capsules"]`);
      await page.waitForSelector(text("provider-replay"));
      await shot("capsules");
      await go(`header nav a[href="/budgets"]`);
      await page.waitForSelector(text("Per session"));
      assert.match(await inner("main"), /Say hi with a command\s+\$0\.\d{4}/);
      await shot("budgets");

      // Ctrl-C with a live view open: astrid web ends its streams and exits.
      await go(text("Say hi with a command"));
      await page.waitForSelector('#live[data-connected="1"]');
      const exit = await Promise.race([
        web.stop(),
        new Promise<null>((r) => setTimeout(() => r(null), 15_000)),
      ]);
      assert.ok(exit !== null, "astrid web did not exit");
      assert.equal(exit.code, 0);
    } catch (err) {
      await page.screenshot({
        path: path.join(SHOTS, "failure.png") as `${string}.png`,
        fullPage: true,
      }).catch(() => {});
      throw err;
    } finally {
      await browser.close();
      await web.stop();
    }
  },
});
