import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { NetworkError, RateLimitError, Redactor, ServerError, TimeoutError } from "../../src/core/errors";
import { HttpTransport, type HttpRequest, parseRetryAfter, type RawResponse } from "../../src/core/http";

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

const servers: Server[] = [];
async function serve(handler: Handler) {
  let n = 0;
  const hits: { method: string; at: number }[] = [];
  const server = createServer((req, res) => {
    hits.push({ method: req.method!, at: Date.now() });
    handler(req, res, ++n);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.closeAllConnections() ?? s.close(r))));
});

/** Interprets like a cloud client: 2xx ok, 429 rate limit, 5xx server error. */
const interpret = (idempotent: boolean) => (res: RawResponse) => {
  if (res.status < 300) return res.text;
  const d = { cloud: "ppio" as const, status: res.status, retryAfterSeconds: res.retryAfterSeconds, requestId: res.requestId };
  if (res.status === 429) throw new RateLimitError("slow down", d);
  throw new ServerError("broken", { ...d, mayHaveSucceeded: !idempotent });
};

const transport = (url: string, extra: Partial<ConstructorParameters<typeof HttpTransport>[0]> = {}) =>
  new HttpTransport({ cloud: "ppio", baseUrl: url, retry: { baseDelayMs: 10, maxDelayMs: 20 }, ...extra });

const get: HttpRequest = { method: "GET", path: "/x", idempotent: true, operation: "GET /x" };
const create: HttpRequest = { method: "POST", path: "/x", idempotent: false, operation: "POST /x", body: "{}" };

describe("HttpTransport retry rules", () => {
  it("retries a 429 (even a create) after the server's Retry-After", async () => {
    const s = await serve((_q, res, n) => {
      if (n === 1) res.writeHead(429, { "retry-after": "1" }).end();
      else res.end("ok");
    });
    await expect(transport(s.url).send(create, interpret(false))).resolves.toBe("ok");
    expect(s.hits).toHaveLength(2);
    expect(s.hits[1].at - s.hits[0].at).toBeGreaterThanOrEqual(950);
  });

  it("retries 5xx for a read", async () => {
    const s = await serve((_q, res, n) => (n < 3 ? res.writeHead(503).end() : res.end("ok")));
    await expect(transport(s.url).send(get, interpret(true))).resolves.toBe("ok");
    expect(s.hits).toHaveLength(3);
  });

  it("never re-sends a create after a 5xx, and says its outcome is unknown", async () => {
    const s = await serve((_q, res) => res.writeHead(502).end());
    const err = await transport(s.url).send(create, interpret(false)).catch((e) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect(err.mayHaveSucceeded).toBe(true);
    expect(s.hits).toHaveLength(1);
  });

  it("never re-sends a create whose connection dropped after sending", async () => {
    const s = await serve((q) => q.socket.destroy());
    const err = await transport(s.url).send(create, interpret(false)).catch((e) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.mayHaveSucceeded).toBe(true);
    expect(s.hits).toHaveLength(1);
  });

  it("retries any request whose connection was refused (nothing was sent)", async () => {
    const s = await serve((_q, res) => res.end());
    const port = new URL(s.url).port;
    await new Promise((r) => servers.pop()!.close(r));
    const lines: string[] = [];
    const t = transport(`http://127.0.0.1:${port}`, { retry: { maxAttempts: 3, baseDelayMs: 5 }, log: (l) => lines.push(l) });
    const err = await t.send(create, interpret(false)).catch((e) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.mayHaveSucceeded).toBe(false);
    expect(lines).toHaveLength(2);
  });

  it("times a request out and reports it as possibly executed", async () => {
    const s = await serve(() => undefined); // never answers
    const err = await transport(s.url, { timeoutMs: 200 }).send(create, interpret(false)).catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.mayHaveSucceeded).toBe(true);
  });

  it("stops after maxAttempts", async () => {
    const s = await serve((_q, res) => res.writeHead(500).end());
    await expect(transport(s.url, { retry: { maxAttempts: 4, baseDelayMs: 1 } }).send(get, interpret(true))).rejects.toBeInstanceOf(ServerError);
    expect(s.hits).toHaveLength(4);
  });

  it("pauses every request to the cloud while it throttles", async () => {
    const s = await serve((q, res, n) => {
      if (n === 1) res.writeHead(429, { "retry-after": "1" }).end();
      else res.end(q.url);
    });
    const t = transport(s.url);
    const first = t.send(get, interpret(true));
    await new Promise((r) => setTimeout(r, 100)); // the 429 has arrived
    await t.send({ ...get, path: "/y" }, interpret(true));
    await first;
    const second = s.hits[1];
    expect(second.at - s.hits[0].at).toBeGreaterThanOrEqual(900);
  });
});

describe("HttpTransport hygiene", () => {
  it("keeps registered secrets out of error messages and retry lines", async () => {
    const secret = "sk-very-secret-123456";
    const s = await serve((_q, res, n) => (n === 1 ? res.writeHead(503).end() : res.end("ok")));
    const lines: string[] = [];
    const redactor = new Redactor();
    redactor.add(secret);
    const t = transport(s.url, { redactor, log: (l) => lines.push(l) });
    await t.send({ ...get, operation: `GET /x?k=${secret}` }, interpret(true));
    expect(lines.join("\n")).not.toContain(secret);
    expect(lines.join("\n")).toContain("***");
  });

  it("parses Retry-After in seconds and as a date", () => {
    expect(parseRetryAfter("3")).toBe(3);
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3);
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it("passes the request id header through", async () => {
    const s = await serve((_q, res) => res.writeHead(500, { "x-request-id": "rid-42" }).end());
    const err = await transport(s.url, { retry: { maxAttempts: 1 } }).send(get, interpret(true)).catch((e) => e);
    expect(err.requestId).toBe("rid-42");
    expect(err.message).toContain("rid-42");
  });
});
