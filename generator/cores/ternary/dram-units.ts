// The core's side of board DRAM: one write unit (dram-store.ts) and one read prefetcher
// (dram-fetch.ts) per AXI4 master, built inside the core's module (core.ts) and presented to it
// as one store and one fetcher, whatever `ports` is.

import { UInt, Bool, cat, bundlePorts, connectBundle, axi4Spec, axi4ReadSpec, axi4WriteSpec, type ModuleBuilder, type Value } from '../../hdl/index.ts';
import { dramFetch } from './dram-fetch.ts';
import { dramStore } from './dram-store.ts';
import { dramLayout, portParams, type CoreDramParams } from './dram-layout.ts';
import { log2ceil } from './params.ts';

/**
 * The DRAM units behind the core: for each of the `ports` AXI4 masters a write unit and a
 * read prefetcher for its slice of every tile (dram-layout.ts), presented to the core as
 * one store and one fetcher. A tile is taken (written, or handed to the array) only when
 * every port can take (or has) its slice, so the ports stay on the same tile; each
 * fetcher's FIFO of two bursts absorbs the skew between their memories. One port is the
 * units themselves, as before ports existed (m_axi_*, instances store and fetch).
 */
export function dramUnits(m: ModuleBuilder, dp: CoreDramParams, ktMax: number, cols: number) {
  const memRst = m.input('mem_rst', Bool);
  const P = dp.ports;
  const L = dramLayout(dp);
  const wA = log2ceil(dp.wdepth);
  const units = Array.from({ length: P }, (_, j) => {
    const q = portParams(dp, j);
    const sfx = P === 1 ? '' : `${j}`;
    const axi = bundlePorts(m, `m_axi${sfx}`, axi4Spec(q.addr, q.data), 'source');
    const store = m.instance(`store${sfx}`, dramStore(q));
    const fetch = m.instance(`fetch${sfx}`, dramFetch({ ...q, ktMax, cols }));
    m.set(m.portOf(`store${sfx}`, 'rst'), memRst);
    m.set(m.portOf(`fetch${sfx}`, 'rst'), memRst);
    connectBundle(m, axi4WriteSpec(q.addr, q.data), axi, store.axi);
    connectBundle(m, axi4ReadSpec(q.addr, q.data), axi, fetch.axi);
    m.set(fetch.flush, m.sync.rst!);
    return { axi, store, fetch };
  });
  if (P === 1) return { memRst, axi: units[0]!.axi, axis: [units[0]!.axi], store: units[0]!.store, fetch: units[0]!.fetch };
  const all = (vs: Value[]): Value => vs.reduce((a, b) => a.and(b));
  const any = (vs: Value[]): Value => vs.reduce((a, b) => a.or(b));
  const slice = (word: Value, j: number): Value => word.slice((j + 1) * L.portBits - 1, j * L.portBits);
  // Store: the tile and its index, forked to every port once all of them are ready.
  const sValid = m.wire('store_valid', Bool);
  const sData = m.wire('store_data', UInt(wA + dp.wordBits));
  const sReady = m.let('store_ready', all(units.map((u) => u.store.tiles.ready)));
  for (const [j, u] of units.entries()) {
    m.set(u.store.tiles.valid, sValid.and(sReady));
    m.set(u.store.tiles.data, cat(sData.slice(wA + dp.wordBits - 1, dp.wordBits), slice(sData, j)));
  }
  // Fetch: one start for all; the slices joined, port 0 lowest, taken together.
  const start = m.wire('fetch_start', Bool);
  const first = m.wire('fetch_first', UInt(wA));
  const kTiles = m.wire('fetch_k_tiles', UInt(units[0]!.fetch.kTiles.width));
  const n = m.wire('fetch_n', UInt(32));
  const fReady = m.wire('fetch_ready', Bool);
  for (const u of units) {
    m.set(u.fetch.start, start);
    m.set(u.fetch.first, first);
    m.set(u.fetch.kTiles, kTiles);
    m.set(u.fetch.n, n);
    m.set(u.fetch.tiles.ready, fReady);
  }
  const fValid = m.let('fetch_valid', all(units.map((u) => u.fetch.tiles.valid)));
  const fData = m.let('fetch_data', cat(...units.map((u) => u.fetch.tiles.data).reverse()).trunc(dp.wordBits));
  return {
    memRst,
    axi: units[0]!.axi,
    axis: units.map((u) => u.axi),
    store: { tiles: { valid: sValid, data: sData, ready: sReady }, busy: m.let('store_busy', any(units.map((u) => u.store.busy))), werr: any(units.map((u) => u.store.werr)) },
    fetch: { start, first, kTiles, n, tiles: { valid: fValid, data: fData, ready: fReady }, busy: m.let('fetch_busy', any(units.map((u) => u.fetch.busy))), rerr: any(units.map((u) => u.fetch.rerr)) },
  };
}
