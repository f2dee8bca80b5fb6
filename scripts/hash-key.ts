/**
 * `npm run -s hash-key`: the stored form of a partner API key for a `credential.apiKeyHash`
 * (of `partners.<id>`, one of its organisations, or an admin), `sha256:<digest>` (docs/adr/0011-api-key-digests.md). Keys shorter than 32 characters are
 * refused: only a random key is safe behind a fast digest.
 *
 *   printf %s "$KEY" | npm run -s hash-key          the digest of a key read from stdin
 *   npm run -s hash-key                             asks for the key on the terminal (no echo)
 *   npm run -s hash-key -- --generate               a new random key and its digest, as JSON
 *
 * The key is read from stdin, never from the command line, where `ps` and shell history would
 * see it. One trailing newline is dropped. The digest goes to stdout, everything else to stderr.
 * (`-s` keeps npm's own banner off stdout.)
 */
import { parseArgs } from 'node:util';
import { generateApiKey, hashApiKey } from '@ketenhub/kit';

const { values: opts } = parseArgs({
  options: { generate: { type: 'boolean', default: false }, help: { type: 'boolean' } },
});

if (opts.help) {
  console.error(
    'usage: printf %s "$KEY" | npm run -s hash-key   |   npm run -s hash-key -- --generate',
  );
  process.exit(0);
}

/** Reads a line from the terminal without echoing it. */
function readHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    let key = '';
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          resolve(key);
          return;
        }
        if (ch === '\u0003') {
          stdin.setRawMode(false);
          reject(new Error('interrupted'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') key = key.slice(0, -1);
        else key += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

try {
  if (opts.generate) {
    const apiKey = generateApiKey();
    console.log(JSON.stringify({ apiKey, apiKeyHash: hashApiKey(apiKey) }));
  } else {
    const key = process.stdin.isTTY ? await readHidden('API key: ') : await readStdin();
    console.log(hashApiKey(key));
  }
} catch (err) {
  console.error(`hash-key: ${(err as Error).message}`);
  process.exit(1);
}
