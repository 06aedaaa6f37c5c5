import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { opsRoutes, startOpsServer } from "../../src/ops/http.js";
import { checkReadiness } from "../../src/ops/readiness.js";

// No Docker engine runs here, so check what can be checked without one: the files the
// Dockerfile copies exist, and the file its CMD starts is what `npm run build` produces.
const root = new URL("../../", import.meta.url).pathname;
const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
const run = promisify(execFile);

function buildConfig(): ts.ParsedCommandLine {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.build.json"), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
    },
  });
  if (!parsed) throw new Error("tsconfig.build.json did not parse");
  expect(parsed.errors).toEqual([]);
  return parsed;
}

function buildSources(): string[] {
  return buildConfig().fileNames.filter((file) => !file.endsWith(".d.ts"));
}

function buildOutputs(): string[] {
  const config = buildConfig();
  return config.fileNames.flatMap((file) => ts.getOutputFileNames(config, file, false));
}

describe("Dockerfile", () => {
  it("copies only files that exist in the repository", () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
      (m[1] ?? "").split(/\s+/),
    );
    expect(sources.length).toBeGreaterThan(3);
    for (const source of sources) expect(existsSync(join(root, source)), source).toBe(true);
  });

  it("runs as a non-root user with a health check and production-only dependencies", () => {
    expect(dockerfile).toMatch(/^USER (?!root)\S+$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/readyz/m);
    expect(dockerfile).toContain("npm ci --omit=dev");
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
  });

  it("its HEALTHCHECK passes only while /readyz answers 200", async () => {
    const json = dockerfile.match(/^HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])$/m)?.[1];
    const [node, flag, script] = JSON.parse(json ?? "[]") as string[];
    expect([node, flag]).toEqual(["node", "-e"]);
    let ready = false;
    const routes = opsRoutes({
      readiness: () =>
        checkReadiness({
          configured: ["slack"],
          started: () => [{ name: "slack", healthy: () => ready }],
          pingStore: async () => {},
        }),
    });
    const server = await startOpsServer(0, routes, "127.0.0.1");
    try {
      const env = {
        PATH: process.env.PATH ?? "",
        PORT: String((server.address() as AddressInfo).port),
        HOST: "127.0.0.1",
      };
      const check = () =>
        run(process.execPath, ["-e", script ?? ""], { env }).then(
          () => 0,
          (error: { code?: number }) => error.code,
        );
      expect(await check()).toBe(1);
      ready = true;
      expect(await check()).toBe(0);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("starts a file the build produces", () => {
    const cmd = dockerfile.match(/^CMD \["node", "([^"]+)"\]$/m)?.[1];
    expect(cmd).toBe("dist/src/main.js");
    const packageJson = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(packageJson.scripts.start).toBe(`node ${cmd}`);
    // What `npm run build` emits, asked of the compiler without compiling (the typecheck already
    // compiles every file): the CMD and the bin's imports are outputs of sources in the build.
    const outputs = buildOutputs();
    expect(outputs).toContain(join(root, cmd ?? ""));
    const bin = readFileSync(join(root, "bin/seedream-bot.js"), "utf8");
    const binImports = [...bin.matchAll(/from "\.\.\/(dist\/[^"]+)"/g)].map((m) => join(root, m[1] ?? ""));
    expect(binImports.length).toBeGreaterThan(0);
    for (const file of binImports) expect(outputs, file).toContain(file);
  });

  it("builds from what it copies: sources in the build import nothing outside src/ and adapters/", () => {
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
      (m[1] ?? "").split(/\s+/),
    );
    for (const file of buildSources()) {
      for (const [, specifier] of readFileSync(file, "utf8").matchAll(/\bfrom\s+"(\.[^"]+)"/g)) {
        const target = relative(root, resolve(dirname(file), specifier ?? ""));
        expect(
          copied.some((source) => target.startsWith(`${source}/`)),
          `${relative(root, file)} imports ${target}`,
        ).toBe(true);
      }
    }
  });
});
