/**
 * Test helper: runs a TypeScript snippet as a real `deno run --no-prompt`
 * child whose permission checks go to a broker socket.
 */
export interface ChildResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Writes `source` into `dir` and runs it with `DENO_PERMISSION_BROKER_PATH=sock`. */
export async function runBrokeredChild(
  dir: string,
  sock: string,
  source: string,
): Promise<ChildResult> {
  const script = `${dir}/child.ts`;
  await Deno.writeTextFile(script, source);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", script],
    env: {
      DENO_PERMISSION_BROKER_PATH: sock,
      DENO_DIR: `${dir}/deno_dir`,
      NO_COLOR: "1",
    },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** A child that reads `allowed`, then `denied`, then env `SECRET`, printing each outcome. */
export function readerSource(allowed: string, denied: string): string {
  return `
function attempt(label: string, fn: () => string | undefined): void {
  try {
    console.log(label, "ok", fn());
  } catch (e) {
    console.log(label, "err", (e as Error).name, (e as Error).message);
  }
}
attempt("allowed", () => Deno.readTextFileSync(${
    JSON.stringify(allowed)
  }).trim());
attempt("denied", () => Deno.readTextFileSync(${JSON.stringify(denied)}));
attempt("env", () => Deno.env.get("SECRET"));
`;
}
