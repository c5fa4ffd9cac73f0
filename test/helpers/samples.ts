import type { Item } from '../../src/kernel/store.ts'

/**
 * One valid body per registered resource, keyed by store collection, for the tests that iterate
 * the registry (contract, persistence, reset). A resource added to the registry without a sample
 * here makes the contract test fail, so nothing is silently left out.
 */
export interface Sample {
  /**
   * A valid create body. `n` is unique per call (for names, ports); `make(collection)` creates a
   * prerequisite through the API and returns its id.
   */
  create: (n: number, make: (collection: string) => Promise<string>) => Promise<Item> | Item
  /** A valid partial update of scalar fields (PUT merges it over the item). */
  change: (n: number) => Item
  /** True when the body needs nothing else to exist (usable for bulk writes). */
  standalone?: boolean
}

export const samples: Record<string, Sample> = {
  accounts: {
    create: n => ({ name: `contract-${n}`, role: 'Operator', state: 'Active', password: `Contract!Passw0rd-${n}` }),
    change: () => ({ role: 'Viewer' }),
    standalone: true
  },
  transcoders: {
    create: n => ({ name: `contract transcoder ${n}`, video_bitrate: 1500, width: 1280, height: 720 }),
    change: n => ({ name: `contract transcoder ${n} renamed`, video_bitrate: 2500 }),
    standalone: true
  },
  inputs: {
    create: n => ({ name: `contract input ${n}`, protocol: 'ts_udp', url: `udp://239.77.${n % 250}.1:${20000 + n}` }),
    change: n => ({ name: `contract input ${n} renamed` }),
    standalone: true
  },
  outputs: {
    create: n => ({ name: `contract output ${n}`, protocol: 'ts_udp', url: `udp://239.78.${n % 250}.1:${20000 + n}` }),
    change: n => ({ name: `contract output ${n} renamed`, ttl: 32 }),
    standalone: true
  },
  archive_locations: {
    create: n => ({ name: `contract location ${n}`, type: 'local', path: `/data/contract-${n}`, quota_mb: 1000 + n }),
    change: n => ({ name: `contract location ${n} renamed`, quota_mb: 5000 + n }),
    standalone: true
  },
  metadata: {
    create: n => ({ name: `contract metadata ${n}`, input_method: 'video_source', data_format: 'klv' }),
    change: n => ({ name: `contract metadata ${n} renamed`, mission_id: `mission ${n}` }),
    standalone: true
  },
  'metadata.relays': {
    create: n => ({ address: '10.20.30.40', port: 10000 + n }),
    change: n => ({ port: 30000 + n })
  },
  streams: {
    create: async (n, make) => ({
      name: `contract stream ${n}`,
      mode: 'transcoder',
      input: await make('inputs'),
      transcoder: await make('transcoders'),
      outputs: [await make('outputs')]
    }),
    change: n => ({ name: `contract stream ${n} renamed`, description: 'changed by the contract test' })
  }
}
