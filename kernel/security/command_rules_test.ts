import assert from "node:assert/strict";
import { KernelError } from "../core/errors.ts";
import { CommandRules, MAX_COMMAND_NESTING } from "./command_rules.ts";

const test = (name: string, fn: () => void) =>
  Deno.test({ name, permissions: "none", fn });

/** The built-in `blocked_commands` of reference §6.3. */
const DEFAULTS = [
  "rm -rf /",
  "rm -rf /*",
  "sudo",
  "su",
  "mkfs",
  "dd",
  "chmod 777",
  "shutdown",
  "reboot",
  "init",
];
const rules = new CommandRules({ blocked: DEFAULTS });

function entry(line: string): string | null | undefined {
  const [command = "", ...args] = line.split(" ");
  const hit = rules.check(command, args);
  return hit === null ? null : hit.entry;
}

test("`CommandRules.check()` blocks `su root` and `/bin/su` by the entry `su`", () => {
  assert.equal(entry("su root"), "su");
  assert.equal(entry("su"), "su");
  assert.equal(entry("/bin/su -"), "su");
  assert.equal(entry("/usr/bin/su root"), "su");
});

test("`CommandRules.check()` does not block `sum` or `summary` by the entry `su`", () => {
  assert.equal(entry("sum x"), null);
  assert.equal(entry("/usr/bin/sum x"), null);
  assert.equal(entry("summary"), null);
  assert.equal(entry("ddrescue a b"), null);
  assert.equal(entry("initdb"), null);
});

test("`CommandRules.check()` blocks every flag spelling of `rm -rf /`", () => {
  for (
    const line of [
      "rm -rf /",
      "rm -fr /",
      "rm -r -f /",
      "rm -f -r /",
      "rm -rfv /",
      "rm -R -f /",
      "rm --recursive --force /",
      "rm -rf / --no-preserve-root",
      "rm -rf -- /",
      "/bin/rm -rf /",
      "rm -rf //",
      "rm -rf /./",
      "rm -rf /tmp/..",
    ]
  ) {
    assert.equal(entry(line), "rm -rf /", line);
  }
});

test("`CommandRules.check()` does not block `rm -rf` of other paths or without both flags", () => {
  for (
    const line of [
      "rm -rf /tmp/x",
      "rm -rf ./build",
      "rm -r /",
      "rm -f /",
      "rm /",
      "rm -rf /tmp",
    ]
  ) {
    assert.equal(entry(line), null, line);
  }
});

test("`CommandRules.check()` blocks the literal `/*` operand by `rm -rf /*`", () => {
  assert.equal(entry("rm -rf /*"), "rm -rf /*");
  assert.equal(entry("rm -fr /*"), "rm -rf /*");
  assert.equal(entry("rm -rf /tmp/*"), null);
});

test("`CommandRules.check()` blocks `chmod 777` with any target but not other modes", () => {
  assert.equal(entry("chmod 777 /x"), "chmod 777");
  assert.equal(entry("chmod -R 777 /"), "chmod 777");
  assert.equal(entry("chmod 755 x"), null);
  assert.equal(entry("chmod 7777 x"), null);
});

test("`CommandRules.check()` blocks `mkfs.*` variants by the entry `mkfs`", () => {
  assert.equal(entry("mkfs.ext4 /dev/sda1"), "mkfs");
  assert.equal(entry("/sbin/mkfs.vfat /dev/sdb"), "mkfs");
  assert.equal(entry("mkfs /dev/sda1"), "mkfs");
  assert.equal(entry("mkfsx"), null);
});

test("`CommandRules.check()` blocks commands run through `sudo`, `env`, `nice`, `nohup` and `timeout`", () => {
  const cases: Array<[string, string]> = [
    ["sudo ls", "sudo"],
    ["env FOO=1 BAR=2 rm -rf /", "rm -rf /"],
    ["env -u HOME -i su", "su"],
    ["nice -n 10 su", "su"],
    ["nice -10 su", "su"],
    ["nohup reboot", "reboot"],
    ["timeout 5 su", "su"],
    ["timeout -s KILL -k 1 5 shutdown now", "shutdown"],
    ["timeout --signal=KILL 5 su", "su"],
    ["command su", "su"],
    ["exec -a x su", "su"],
    ["busybox rm -rf /", "rm -rf /"],
    ["xargs -n 1 su", "su"],
    ["nice nohup timeout 1 env A=1 dd if=/dev/zero", "dd"],
  ];
  for (const [line, want] of cases) assert.equal(entry(line), want, line);
  assert.equal(rules.check("env", ["-S", "rm -rf /"])?.entry, "rm -rf /");
  assert.equal(rules.check("env", ["--split-string=A=1 su"])?.entry, "su");
});

test("`CommandRules.check()` names the wrapper a blocked command ran through", () => {
  const hit = rules.check("nice", ["-n", "5", "su"]);
  assert.match(
    hit?.reason ?? "",
    /blocked by rule 'su' \(run through 'nice'\)/,
  );
});

test("`CommandRules.check()` allows harmless commands run through wrappers", () => {
  for (
    const line of [
      "env FOO=1 ls -la",
      "nice -n 5 make",
      "timeout 5 deno test",
      "nohup git fetch",
    ]
  ) {
    assert.equal(entry(line), null, line);
  }
});

test("`CommandRules.check()` scans `sh -c` and `bash -c` scripts command by command", () => {
  const cases: Array<[string, readonly string[], string | null]> = [
    ["sh", ["-c", "echo hi; rm -rf /"], "rm -rf /"],
    ["bash", ["-c", "ls && su root"], "su"],
    ["bash", ["-lc", "true || reboot"], "reboot"],
    ["sh", ["-ec", "cat x | dd of=/dev/sda"], "dd"],
    ["/bin/bash", ["-c", "FOO=1 su"], "su"],
    ["sh", ["-c", "echo ok\nshutdown now"], "shutdown"],
    ["sh", ["-c", "if true; then su; fi"], "su"],
    ["sh", ["-c", "echo hi"], null],
    ["bash", ["-c", "git status && deno test"], null],
    ["sh", ["script.sh"], null],
  ];
  for (const [cmd, args, want] of cases) {
    const hit = rules.check(cmd, args);
    assert.equal(
      hit === null ? null : hit.entry,
      want,
      `${cmd} ${args.join(" ")}`,
    );
  }
});

test("`CommandRules.check()` sees through quoting, substitution and $IFS tricks in scripts", () => {
  const scripts = [
    "r'm' -rf /",
    '"rm" "-rf" "/"',
    'echo "$(su)"',
    "echo `su`",
    "rm${IFS}-rf${IFS}/",
    "x=$(reboot)",
    "sh -c 'rm -rf /'",
    "eval su",
  ];
  for (const s of scripts) {
    assert.notEqual(rules.check("sh", ["-c", s]), null, s);
  }
});

test("`CommandRules.check()` checks a command string with spaces as split words", () => {
  assert.equal(rules.check("rm -rf /", [])?.entry, "rm -rf /");
  assert.equal(rules.check("sudo ls", [])?.entry, "sudo");
  assert.equal(rules.check("git status", []), null);
});

test("`CommandRules.check()` refuses nesting deeper than the limit", () => {
  const args = Array.from({ length: MAX_COMMAND_NESTING + 2 }, () => "nohup");
  const hit = rules.check("nohup", [...args, "ls"]);
  assert.equal(hit?.rule, "invalid_command");
  assert.match(hit?.reason ?? "", /nests/);
  assert.equal(rules.check("nohup", ["nohup", "ls"]), null);
});

test("`CommandRules.check()` refuses an empty command and NUL bytes", () => {
  assert.equal(rules.check("", [])?.rule, "invalid_command");
  assert.equal(rules.check("  ", [])?.rule, "invalid_command");
  assert.equal(rules.check("ls\0", [])?.rule, "invalid_command");
  assert.equal(rules.check("ls", ["a\0b"])?.rule, "invalid_command");
});

test("`CommandRules.check()` allows arguments of exactly max_argument_size bytes", () => {
  const limited = new CommandRules({ maxArgumentSize: 10 });
  assert.equal(limited.check("echo", ["12345", "67890"]), null);
  assert.equal(limited.check("echo", ["é".repeat(5)]), null); // 10 bytes
});

test("`CommandRules.check()` blocks arguments of max_argument_size + 1 bytes", () => {
  const limited = new CommandRules({ maxArgumentSize: 10 });
  const hit = limited.check("echo", ["12345", "678901"]);
  assert.equal(hit?.rule, "max_argument_size");
  assert.match(hit?.reason ?? "", /11 bytes, over the 10-byte limit/);
  assert.equal(
    limited.check("echo", ["é".repeat(5), "x"])?.rule,
    "max_argument_size",
  );
});

test("`CommandRules.check()` with max_argument_size 0 has no size limit", () => {
  const unlimited = new CommandRules({ maxArgumentSize: 0 });
  assert.equal(unlimited.check("echo", ["x".repeat(2_000_000)]), null);
});

test("`new CommandRules()` refuses empty entries and negative sizes", () => {
  assert.throws(
    () => new CommandRules({ blocked: ["  "] }),
    (e) =>
      KernelError.is(e, "CONFIG_INVALID") &&
      e.message.includes("security.policy.blocked_commands"),
  );
  assert.throws(() => new CommandRules({ maxArgumentSize: -1 }), RangeError);
});

test("`CommandRules.check()` with no entries blocks nothing", () => {
  assert.equal(new CommandRules().check("rm", ["-rf", "/"]), null);
});
