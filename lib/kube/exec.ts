/**
 * `kubectl exec` without kubectl: client-node's Exec over a WebSocket to
 * /api/v1/namespaces/NS/pods/POD/exec, subprotocol v5.channel.k8s.io (v4 as fallback). Each binary
 * frame starts with a channel byte: 1 stdout, 2 stderr, 3 the final Status (JSON). The exit code
 * is in that Status: `{"status":"Success"}` for 0, or `{"status":"Failure","reason":"NonZeroExitCode",
 * "details":{"causes":[{"reason":"ExitCode","message":"3"}]}}`.
 *
 * What client-node 1.4.0 leaves to the caller, handled here: a deadline (it has none), a socket
 * that closes without a Status (no exit code: reported as -1 with the reason), an upgrade the
 * server refuses (the error names the HTTP status, e.g. 404 for a missing pod).
 */
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import type { ExecRequest, ExecResult } from './types.js';

/** Output kept per stream; what follows is dropped (and said so). */
export const EXEC_OUTPUT_LIMIT = 1_000_000;

/** The part of the `ws` WebSocket that client-node hands back and this file uses. */
interface ExecSocket {
  on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  close(code?: number): void;
  terminate?(): void;
}

class Collector extends Writable {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const room = EXEC_OUTPUT_LIMIT - this.size;
    if (room > 0) {
      const kept = buffer.length <= room ? buffer : buffer.subarray(0, room);
      this.chunks.push(Buffer.from(kept));
      this.size += kept.length;
    }
    if (buffer.length > room) this.truncated = true;
    callback();
  }

  text(): string {
    const text = Buffer.concat(this.chunks).toString('utf8');
    return this.truncated ? `${text}\n[output cut at ${EXEC_OUTPUT_LIMIT} bytes]` : text;
  }
}

/** The exit code and error message a Status frame carries. */
export function exitFromStatus(status: V1Status): { exitCode: number; error: string } {
  if (status.status === 'Success') return { exitCode: 0, error: '' };
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = cause?.message !== undefined ? Number.parseInt(cause.message, 10) : Number.NaN;
  if (status.reason === 'NonZeroExitCode' && Number.isInteger(code)) return { exitCode: code, error: '' };
  return { exitCode: -1, error: status.message ?? `exec failed (${status.reason ?? 'no reason given'})` };
}

/** Runs one command in a container and collects its output and exit code. Never throws. */
export async function execInPod(kc: KubeConfig, request: ExecRequest): Promise<ExecResult> {
  const started = Date.now();
  const stdout = new Collector();
  const stderr = new Collector();
  const where = `${request.namespace}/${request.pod} (container ${request.container})`;
  return new Promise<ExecResult>((resolve) => {
    let status: V1Status | undefined;
    let socket: ExecSocket | undefined;
    let settled = false;
    const finish = (fallbackError: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      const outcome = status ? exitFromStatus(status) : { exitCode: -1, error: fallbackError };
      resolve({ ...outcome, stdout: stdout.text(), stderr: stderr.text(), durationMs: Date.now() - started });
    };
    const stop = (why: string): void => {
      if (socket) {
        if (socket.terminate) socket.terminate();
        else socket.close();
      }
      finish(why);
    };
    const timer = setTimeout(
      () => stop(`no exit status from ${where} within ${(request.timeoutMs / 1000).toFixed(1)} s`),
      Math.max(1, request.timeoutMs),
    );
    const onAbort = (): void => stop(`exec in ${where} interrupted`);
    if (request.signal?.aborted) {
      onAbort();
      return;
    }
    request.signal?.addEventListener('abort', onAbort, { once: true });

    new Exec(kc)
      .exec(request.namespace, request.pod, request.container, [...request.command], stdout, stderr, null, false, (s: V1Status) => {
        status = s;
      })
      .then((ws: unknown) => {
        socket = ws as ExecSocket;
        if (settled) {
          stop('');
          return;
        }
        socket.on('close', (code: number) => finish(`the exec connection to ${where} closed (code ${code}) without an exit status`));
        socket.on('error', (error: Error) => finish(`the exec connection to ${where} failed: ${error.message}`));
      })
      .catch((error: unknown) => {
        const e = error as { message?: string } | undefined;
        finish(`exec in ${where} refused: ${e?.message ?? String(error)}`);
      });
  });
}
