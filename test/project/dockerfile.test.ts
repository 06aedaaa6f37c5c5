import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { opsRoutes, startOpsServer } from "../../src/ops/http.js";
import { checkReadiness } from "../../src/ops/readiness.js";

// No Docker engine runs here, so check what can be checked without one: the files the
// Dockerfile copies exist, and the file its CMD starts is what `npm run build` produces.
const root = new URL("../../", import.meta.url).pathname;
const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
const run = promisify(execFile);
const outDir = mkdtempSync(join(tmpdir(), "seedream-build-"));

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

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

  it("starts a file the build produces", async () => {
    const cmd = dockerfile.match(/^CMD \["node", "([^"]+)"\]$/m)?.[1];
    expect(cmd).toBe("dist/src/main.js");
    const packageJson = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(packageJson.scripts.start).toBe(`node ${cmd}`);
    await run(
      process.execPath,
      [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", outDir],
      {
        cwd: root,
      },
    );
    expect(existsSync(join(outDir, (cmd ?? "").replace(/^dist\//, "")))).toBe(true);
  }, 120_000);
});
