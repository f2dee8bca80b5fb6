/**
 * A throw-away PKI for tests, made with the openssl CLI: a CA, a server certificate for
 * 127.0.0.1 and client certificates, P-256 keys, valid for one day. Files live in `dir`, which
 * the caller removes.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCert {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

export interface TestPki {
  ca: TestCert;
  server: TestCert;
  /** A client certificate signed by the CA with this subject, e.g. `/O=COA/CN=tvs.coa.test`. */
  client(name: string, subject: string): TestCert;
}

const LEAF = ['basicConstraints=critical,CA:FALSE'];

export function makeTestPki(dir: string): TestPki {
  const make = (name: string, subject: string, ext: string[], issuer?: TestCert): TestCert => {
    const certFile = join(dir, `${name}.crt`);
    const keyFile = join(dir, `${name}.key`);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        subject,
        '-keyout',
        keyFile,
        '-out',
        certFile,
        ...(issuer ? ['-CA', issuer.certFile, '-CAkey', issuer.keyFile] : []),
        ...ext.flatMap((e) => ['-addext', e]),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return {
      certFile,
      keyFile,
      cert: readFileSync(certFile, 'utf8'),
      key: readFileSync(keyFile, 'utf8'),
    };
  };
  const ca = make('ca', '/CN=Ketenhub test partner CA', [
    'basicConstraints=critical,CA:TRUE',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const server = make(
    'server',
    '/CN=127.0.0.1',
    [...LEAF, 'subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth'],
    ca,
  );
  return {
    ca,
    server,
    client: (name, subject) => make(name, subject, [...LEAF, 'extendedKeyUsage=clientAuth'], ca),
  };
}
