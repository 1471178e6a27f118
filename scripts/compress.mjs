// Writes NAME.br (brotli, best quality) and NAME.gz (gzip -9) beside each file given, for
// serve.py to send to browsers that accept them. A copy is rewritten only when its content
// changes, and is always left newer than its file (serve.py never serves an older copy).
//
//   node scripts/compress.mjs FILE...
import fs from 'node:fs';
import zlib from 'node:zlib';

for (const file of process.argv.slice(2)) {
  if (/\.(br|gz)$/.test(file) || !fs.statSync(file).isFile()) continue;
  const bytes = fs.readFileSync(file);
  const copies = {
    '.br': zlib.brotliCompressSync(bytes, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
        [zlib.constants.BROTLI_PARAM_LGWIN]: zlib.constants.BROTLI_MAX_WINDOW_BITS,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        [zlib.constants.BROTLI_PARAM_MODE]: /\.(js|html|css|json|jsonl|txt|svg)$/.test(file)
          ? zlib.constants.BROTLI_MODE_TEXT : zlib.constants.BROTLI_MODE_GENERIC,
      },
    }),
    '.gz': zlib.gzipSync(bytes, { level: 9 }),
  };
  const mtime = fs.statSync(file).mtimeMs;
  for (const [suffix, data] of Object.entries(copies)) {
    const out = file + suffix;
    const same = fs.existsSync(out) && fs.readFileSync(out).equals(data);
    if (!same) fs.writeFileSync(`${out}.tmp`, data), fs.renameSync(`${out}.tmp`, out);
    if (fs.statSync(out).mtimeMs < mtime) {
      const now = new Date();
      fs.utimesSync(out, now, now);
    }
  }
}
