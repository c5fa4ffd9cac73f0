/**
 * Unix-style load averages (1, 5 and 15 minutes) that follow the device's CPU load: each
 * reading decays the previous averages exponentially over the time elapsed since the last one,
 * as the kernel does every 5 s. Readings come from snapshot requests, so no timer runs.
 */
export class LoadAverage {
  private averages: [number, number, number] | undefined
  private at = 0

  constructor (private readonly windowsSeconds: readonly [number, number, number] = [60, 300, 900]) {}

  /** Feeds the instantaneous load (runnable tasks) at time `now` (ms); returns the averages. */
  sample (load: number, now: number): [number, number, number] {
    if (this.averages === undefined || now < this.at) {
      // First reading: as if the device had run at this load for a long time.
      this.averages = [load, load, load]
    } else {
      const elapsed = (now - this.at) / 1000
      this.averages = this.averages.map((avg, i) => {
        const keep = Math.exp(-elapsed / this.windowsSeconds[i]!)
        return avg * keep + load * (1 - keep)
      }) as [number, number, number]
    }
    this.at = now
    return this.averages
  }

  reset (): void {
    this.averages = undefined
  }
}
