/** One line of a device log: when (device time, ms), who wrote it (`auth`, `config`, ...) and what. */
export interface LogLine { at: number, facility: string, text: string }

/** The system log keeps its newest 256 KiB of text, each stream's log its newest 64 KiB [ours]. */
export const SYSTEM_LOG_BYTES = 256 * 1024
export const STREAM_LOG_BYTES = 64 * 1024
/** A longer message is cut here: one line never fills a log. */
const MAX_TEXT = 1024
/** Bytes a line costs besides its text (time stamp, host name, facility, separators): an estimate. */
const LINE_OVERHEAD = 64

/** A bounded log: the oldest lines go once the total passes `bytes`. */
class Ring {
  private lines: LogLine[] = []
  private start = 0
  private total = 0

  constructor (private readonly bytes: number) {}

  push (line: LogLine): void {
    this.lines.push(line)
    this.total += cost(line)
    while (this.total > this.bytes && this.start < this.lines.length) {
      this.total -= cost(this.lines[this.start]!)
      this.start++
    }
    // Compact now and then rather than shifting at every line.
    if (this.start > 1024 && this.start * 2 > this.lines.length) {
      this.lines = this.lines.slice(this.start)
      this.start = 0
    }
  }

  all (): LogLine[] {
    return this.lines.slice(this.start)
  }
}

function cost (line: LogLine): number {
  return Buffer.byteLength(line.text) + line.facility.length + LINE_OVERHEAD
}

/**
 * The device's logs as the emulator saw things happen: the system log and one log per stream,
 * in memory, bounded, cleared by a reset. Every text is made one safe line: control characters
 * (a line break in a user name) become spaces, so nobody can forge a line.
 */
export class DeviceLog {
  private system = new Ring(SYSTEM_LOG_BYTES)
  private readonly streams = new Map<string, Ring>()

  constructor (private readonly now: () => number) {}

  write (facility: string, text: string): void {
    this.system.push({ at: this.now(), facility, text: oneLine(text) })
  }

  /** A line in a stream's log (the caller checks the stream's `log_to_file`). */
  writeStream (uuid: string, facility: string, text: string): void {
    let ring = this.streams.get(uuid)
    if (ring === undefined) this.streams.set(uuid, ring = new Ring(STREAM_LOG_BYTES))
    ring.push({ at: this.now(), facility, text: oneLine(text) })
  }

  systemLines (): LogLine[] {
    return this.system.all()
  }

  streamLines (uuid: string): LogLine[] {
    return this.streams.get(uuid)?.all() ?? []
  }

  /** A deleted stream's log goes with it. */
  dropStream (uuid: string): void {
    this.streams.delete(uuid)
  }

  clear (): void {
    this.system = new Ring(SYSTEM_LOG_BYTES)
    this.streams.clear()
  }
}

export function oneLine (text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ')
  return flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT)}...` : flat
}
