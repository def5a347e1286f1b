import { Agent, type Dispatcher } from 'undici';

/** Rewrites one response body (status 200 only); `undefined` leaves it as it came. */
export type BodyRewrite = (path: string, body: Buffer) => Buffer | undefined;

type Handler = Dispatcher.DispatchHandler;
type Controller = Parameters<NonNullable<Handler['onResponseStart']>>[0];

/**
 * A handler that holds the whole response, lets `rewrite` change the body, and only then hands
 * status, headers (with the new content-length) and body to the caller's handler.
 */
class RewritingHandler implements Handler {
  private status = 0;
  private statusText = '';
  private headers: Record<string, string | string[]> = {};
  private readonly chunks: Uint8Array[] = [];

  constructor(
    private readonly inner: Handler,
    private readonly path: string,
    private readonly rewrite: BodyRewrite,
  ) {}

  onRequestStart(controller: Controller, context: unknown): void {
    this.inner.onRequestStart?.(controller, context);
  }

  onResponseStart(
    _controller: Controller,
    statusCode: number,
    headers: Record<string, string | string[]>,
    statusMessage?: string,
  ): void {
    this.status = statusCode;
    this.headers = { ...headers };
    this.statusText = statusMessage ?? '';
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onResponseEnd(controller: Controller, trailers: Record<string, string | string[]>): void {
    let body: Buffer = Buffer.concat(this.chunks);
    if (this.status === 200) body = this.rewrite(this.path, body) ?? body;
    this.headers['content-length'] = String(body.byteLength);
    this.inner.onResponseStart?.(controller, this.status, this.headers, this.statusText);
    this.inner.onResponseData?.(controller, body);
    this.inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Controller, err: Error): void {
    this.inner.onResponseError?.(controller, err);
  }
}

/**
 * An undici dispatcher for a node that sits between it and the real coordinator: every request
 * goes to the coordinator unchanged over a real Agent (real HTTP on loopback), and responses to
 * GET requests whose path matches `paths` are rewritten by `rewrite` before the node sees them.
 * It plays a malicious coordinator (or anyone on the path) that tells this node another story.
 * `base` (a round over TLS: the harness's dispatcher that trusts the coalition CA) carries the
 * requests instead of a fresh plain Agent; the caller keeps owning it.
 */
export function lyingRelay(
  paths: RegExp,
  rewrite: BodyRewrite,
  base?: Dispatcher,
): { dispatcher: Dispatcher; close(): Promise<void> } {
  const own = base ? undefined : new Agent();
  const agent: Dispatcher = base ?? (own as Agent);
  const dispatcher = agent.compose(
    (dispatch) => (opts, handler) =>
      opts.method === 'GET' && paths.test(opts.path)
        ? dispatch(opts, new RewritingHandler(handler, opts.path, rewrite))
        : dispatch(opts, handler),
  );
  return { dispatcher, close: async () => await own?.close() };
}
