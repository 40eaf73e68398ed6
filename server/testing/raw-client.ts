// A test client that writes exact bytes on one TCP connection and reads the answers in order, so
// tests can send what an HTTP library would not (pipelining, odd heads, half-closes) and see
// which connection answered. Reads Content-Length framed responses only (all the server sends).

import { connect, type Socket } from "node:net";

export interface RawAnswer {
  status: number;
  /** Header names lower-cased; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: string;
}

export class RawClient {
  readonly socket: Socket;
  private buffered = Buffer.alloc(0);
  private readonly waiting: Array<(answer: RawAnswer) => void> = [];
  private readonly answers: RawAnswer[] = [];
  /** Resolves when the server closes the connection. */
  readonly closed: Promise<void>;

  constructor(url: string) {
    const { hostname, port } = new URL(url);
    this.socket = connect(Number(port), hostname);
    this.socket.on("data", (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.parse();
    });
    this.closed = new Promise((resolve) => this.socket.on("close", () => resolve()));
    this.socket.on("error", () => {});
  }

  send(bytes: string): void {
    this.socket.write(bytes);
  }

  /** The next answer on this connection (in order); fails after `timeoutMs`. */
  next(timeoutMs = 5000): Promise<RawAnswer> {
    const ready = this.answers.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push((answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private parse(): void {
    for (;;) {
      const headEnd = this.buffered.indexOf("\r\n\r\n");
      if (headEnd < 0) return;
      const lines = this.buffered.toString("latin1", 0, headEnd).split("\r\n");
      const status = Number((lines[0] ?? "").split(" ")[1]);
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers["content-length"] ?? 0);
      if (this.buffered.length < headEnd + 4 + length) return;
      const body = this.buffered.toString("utf8", headEnd + 4, headEnd + 4 + length);
      this.buffered = this.buffered.subarray(headEnd + 4 + length);
      const answer = { status, headers, body };
      const waiter = this.waiting.shift();
      if (waiter) waiter(answer);
      else this.answers.push(answer);
    }
  }
}

/** A POST with a form body, as bytes. */
export function postForm(path: string, form: string, extraHeaders = ""): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
    `Content-Length: ${Buffer.byteLength(form)}\r\n${extraHeaders}\r\n${form}`
  );
}
