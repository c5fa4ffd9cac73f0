/**
 * State a feature keeps per device, beside the services it is handed. A feature registers its
 * routes once per app, and in a fleet one app serves many devices: what a closure would hold for
 * "the" device (a load average, the NICs taken down) is kept here, one value per device, made on
 * first use (an idle device costs nothing) and dropped with the device.
 */
export function deviceLocal<Owner extends object, T> (make: (owner: Owner) => T): (owner: Owner) => T {
  const values = new WeakMap<Owner, T>()
  return owner => {
    let value = values.get(owner)
    if (value === undefined) {
      value = make(owner)
      values.set(owner, value)
    }
    return value
  }
}
