/** Redis Cluster hash slots (CRC16/XMODEM of the key's `{tag}`, modulo 16384). */

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[i] = crc & 0xffff;
  }
  return table;
})();

/** The cluster slot of `key`, honouring a non-empty `{hash tag}` as Redis does. */
export function slotOf(key: string): number {
  let data = key;
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) data = key.slice(open + 1, close);
  }
  const bytes = Buffer.from(data, 'utf8');
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!) & 0xffff;
  return crc & 16383;
}
