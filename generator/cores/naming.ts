// Module names, the rule in one place: two different modules never share a name, in one
// design or across the designs under rtl/ (test/rtl-names.test.ts checks both).
//
// A core's module name is a readable part that says what it is (family, shape, the link
// flavour: `ternary_core_16x16_a8_f2`, `board_8x8_uart`), then `_<tag><value>` for each
// other parameter that shapes its body and differs from the family's default in
// param-table.ts (`ternary_core_16x16_a8_f2_k4096_m8_w4096` is that core with kmax 4096,
// mmax 8 and wdepth 4096). Every body-shaping parameter is either in the readable part or
// listed with a tag, and tags are distinct letters per family, so the name determines the
// parameters: equal names mean equal bodies. The defaults' names stay short and stable.
// Parameters that do not reach the body (a UART's clock when the board has no UART) are
// left out, so equal bodies share a name and a file.
// Modules whose body depends on a derived size rather than on the core's parameters are
// named by that size (`link_framer_16b`: the framer of every engine whose answer index is
// 16 bits wide). Data that is not a parameter (the identity hash a board reports) lives in
// its own small module named after a prefix of that data (`link_engine_<sizing>_id_<8 hex
// digits>`, the glue that holds the hash and joins framer and executor).

/** [parameter, tag] pairs in name order. */
export type NameTags = readonly (readonly [param: string, tag: string])[];

/** `readable` followed by `_<tag><value>` for each tagged parameter that is given and differs from its default. */
export function nameWith(readable: string, p: Readonly<Record<string, number | undefined>>, tags: NameTags, defaults: Readonly<Record<string, number>>): string {
  const seen = new Set<string>();
  let out = readable;
  for (const [k, tag] of tags) {
    if (seen.has(tag)) throw new Error(`internal: tag '${tag}' used twice in ${readable}`);
    seen.add(tag);
    const v = p[k];
    if (v === undefined || v === defaults[k]) continue;
    out += `_${tag}${v}`;
  }
  return out;
}
