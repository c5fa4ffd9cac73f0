import { PassThrough } from 'node:stream'
import type { Caller } from '../kernel/caller.ts'

/** A client that has this much unread is too slow for a live page: it is dropped (EventSource reconnects and gets the state afresh). */
export const MAX_BUFFERED = 1024 * 1024

/**
 * One open event stream (`GET /ui/events`): Server-Sent Events written to a stream that Fastify
 * sends as the response body, so the device headers and the request log apply as to any answer.
 */
export class EventClient {
  readonly body = new PassThrough()
  private closed = false

  constructor (readonly viewer: Caller, private readonly onClose: (client: EventClient) => void) {
    // The browser went away (tab closed, reconnect): forget the client.
    this.body.on('close', () => this.close())
  }

  get open (): boolean {
    return !this.closed
  }

  /** Writes one event; `data` is JSON (one line: JSON.stringify never writes a raw newline). */
  send (event: string, data: string): void {
    if (this.closed) return
    if (this.body.writableLength > MAX_BUFFERED) {
      this.close()
      return
    }
    this.body.write(`event: ${event}\ndata: ${data}\n\n`)
  }

  /** Says why the stream ends, then ends it. */
  end (reason: string): void {
    this.send('end', JSON.stringify({ reason }))
    this.close()
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    this.body.end()
    this.onClose(this)
  }
}
