/**
 * The web console in a real browser: Debian's Chromium driven by
 * `playwright-core`, against a real daemon subprocess with the replay
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
    const { chromium } = await import("playwright-core");
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
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      chromiumSandbox: false,
      timeout: 30_000,
    });
    const page = await browser.newPage({
      viewport: { width: 420, height: 860 },
    });
    try {
      page.setDefaultTimeout(20_000);
      const shot = (name: string, fullPage = true) =>
        page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
      const origin = new URL(web.url).origin;

      // A wrong token is refused; the printed one logs in and leaves the address bar clean.
      const bad = await page.goto(`${origin}/login?token=wrong`);
      assert.equal(bad?.status(), 401);
      await page.getByText("invalid, already used or expired").waitFor();
      await shot("login-failed");
      await page.goto(web.url);
      assert.equal(new URL(page.url()).pathname, "/sessions");
      assert.ok(!page.url().includes("token"));
      const cookies = await page.context().cookies();
      assert.equal(cookies[0]?.httpOnly, true);
      assert.equal(cookies[0]?.sameSite, "Strict");
      // The one-time URL does not work twice.
      const again = await (await browser.newPage()).goto(web.url);
      assert.equal(again?.status(), 401);

      // A new session in the project.
      await page.fill("#workspace", project);
      await shot("sessions");
      await page.click("text=New session");
      await page.waitForURL(/\/sessions\/[^/]+$/);
      await page.locator('#live[data-connected="1"]').waitFor();

      // A turn streams live and waits for an approval, answered in the page.
      await page.fill("#text", "Say hi with a command");
      await page.click("text=Send");
      const ask = page.locator("#turn .approval");
      await ask.waitFor();
      assert.match(await ask.innerText(), /echo hi/);
      await shot("session-approval");
      await ask.locator('button[data-decision="allow_once"]').click();
      await page.locator("#turn .done").waitFor();
      const turnText = await page.locator("#turn").innerText();
      assert.match(
        turnText,
        /It said: <script>alert\(1\)<\/script> stays text\./,
      );
      assert.match(turnText, /decision: allow_once/);
      assert.equal(await page.locator("#turn script").count(), 0);
      await shot("session-live");

      // A POST without the CSRF token is refused, from the page itself.
      const status = await page.evaluate(async (ws) => {
        const r = await fetch("/sessions", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ workspace: ws }),
        });
        return r.status;
      }, project);
      assert.equal(status, 403);

      // A second turn writes b.txt into the overlay.
      await page.fill("#text", "Write b.txt");
      await page.click("text=Send");
      await page.locator("#turn .done >> nth=1").waitFor();

      // Review the diff and commit it; the commit's approval is answered on the approvals page.
      await page.click("text=Review changes");
      await page.getByText("+beta").waitFor();
      await shot("workspace");
      await page.click("text=Commit selected");
      await page.waitForURL(/\/approvals/);
      await page.locator(".approval").first().waitFor();
      await shot("approvals");
      await page.locator('.approval button[value="allow_once"]').first()
        .click();
      await page.waitForURL(/\/approvals/);
      const written = await (async () => {
        for (let i = 0; i < 100; i++) {
          const t = await Deno.readTextFile(path.join(project, "b.txt")).catch(
            () => null,
          );
          if (t !== null) return t;
          await new Promise((r) => setTimeout(r, 100));
        }
        return null;
      })();
      assert.equal(written, "beta\n");
      await page.goto(page.url().replace(/\/approvals.*$/, "/sessions"));
      await page.click("text=Say hi with a command");
      await page.click("text=Review changes");
      await page.getByText("No changes wait in the overlay.").waitFor();

      // The audit chain: browse, find the answers given here, verify.
      await page.click("nav >> text=Audit");
      await page.getByText("approval_answer").first().waitFor();
      await shot("audit", false);
      // The answers given here are audited with via web and the browser's address.
      await page.goto(
        page.url().replace(/\/audit.*$/, "/audit?action=approval_answer"),
      );
      assert.equal(await page.locator("tbody tr").count(), 2);
      await page.locator("tbody tr a").first().click();
      const entry = JSON.parse(await page.locator("main pre").innerText());
      assert.deepEqual(entry.proof.on_behalf_of, {
        via: "web",
        address: "127.0.0.1",
      });
      await page.click("text=All entries");
      await page.click("text=Verify the chain");
      await page.locator("#verify-result").waitFor();
      assert.match(
        await page.locator("#verify-result").innerText(),
        /^Verified/,
      );
      await shot("audit-verify");

      await page.click("nav >> text=Capsules");
      await page.getByText("provider-replay").first().waitFor();
      await shot("capsules");
      await page.click("nav >> text=Budgets");
      await page.getByText("Per session").waitFor();
      assert.match(
        await page.locator("main").innerText(),
        /Say hi with a command\s+\$0\.\d{4}/,
      );
      await shot("budgets");

      // Ctrl-C with a live view open: astrid web ends its streams and exits.
      await page.click("text=Say hi with a command");
      await page.locator('#live[data-connected="1"]').waitFor();
      const exit = await Promise.race([
        web.stop(),
        new Promise<null>((r) => setTimeout(() => r(null), 15_000)),
      ]);
      assert.ok(exit !== null, "astrid web did not exit");
      assert.equal(exit.code, 0);
    } catch (err) {
      await page.screenshot({
        path: path.join(SHOTS, "failure.png"),
        fullPage: true,
      })
        .catch(() => {});
      throw err;
    } finally {
      await browser.close();
      await web.stop();
    }
  },
});
