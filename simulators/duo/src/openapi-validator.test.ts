import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DUO_API_VERSIONS } from './duo-simulator.ts';
import { DEFAULT_DUO_SPEC_DIR, duoSpecsAvailable, loadDuoSpecs } from './openapi-validator.ts';
import type { DuoSpecs, SpecViolation } from './openapi-validator.ts';

const HAVE_SPECS = duoSpecsAvailable(DEFAULT_DUO_SPEC_DIR);
if (!HAVE_SPECS) {
  console.error(
    `openapi-validator.test: DUO's OpenAPI files are not in ${DEFAULT_DUO_SPEC_DIR}; the tests against them are skipped`,
  );
}

const HEADERS = {
  bron: '00000001001234567000',
  doel: '00000001999999999000',
  berichtId: '3f2a1c9e-7b4d-4e8f-9a01-23456789abcd',
  'content-type': 'application/json',
};
const PIP_PATH = '/v1/personen/999990019/PIP';
const rules = (v: SpecViolation[]) => v.map((x) => `${x.in}:${x.field}:${x.rule}`);

describe.skipIf(!HAVE_SPECS)('loadDuoSpecs against DUO’s files', () => {
  const specs: DuoSpecs = HAVE_SPECS ? loadDuoSpecs() : (undefined as never);

  it('loads every API with the version the simulator pins', () => {
    expect(Object.fromEntries(specs.apis.map((a) => [a.name, a.version]))).toEqual(
      DUO_API_VERSIONS,
    );
    expect(specs.operations.length).toBeGreaterThanOrEqual(35);
  });

  it('finds the API and operation of a path, with or without the base path', () => {
    expect(specs.apiOf('/v1/personen/999990019/uren/participatietaalles')?.name).toBe(
      'GevolgdeUren',
    );
    expect(specs.apiOf('/personen/999990019/inburgeringsplicht/historie?x=1')?.name).toBe(
      'Inburgeringsplicht',
    );
    expect(
      specs.operationOf('DELETE', '/v1/personen/999990019/Inburgeringsaanbod/1000000001'),
    ).toMatchObject({
      operationId: 'deleteInburgeringsaanbodByBsnAndInstellingsnumer',
      pathParams: { bsn: '999990019', instellingsnummer: '1000000001' },
    });
    expect(specs.apiOf('/v1/nergens')).toBeUndefined();
  });

  it('passes a correct request', () => {
    expect(
      specs.validateRequest('POST', PIP_PATH, HEADERS, {
        dagtekeningPip: '2026-02-01',
        leerroute: 'B',
      }),
    ).toEqual([]);
    expect(
      specs.validateRequest('GET', '/v1/instellingen', new Headers(HEADERS), undefined),
    ).toEqual([]);
  });

  it('catches a malformed request: headers, path, body', () => {
    const bad = specs.validateRequest(
      'POST',
      '/v1/personen/12345678/PIP',
      { bron: '123', berichtid: 'not-a-uuid', 'content-type': 'application/json' },
      { dagtekeningPip: '01-02-2026', leerroute: 'X', geschatteIntensiteitB1Route: 0, nivo: 'B1' },
    );
    expect(rules(bad)).toEqual(
      expect.arrayContaining([
        'path:bsn:minLength',
        'header:bron:minLength',
        'header:doel:required',
        'header:berichtId:format:uuid',
        'body:dagtekeningPip:format:date',
        'body:leerroute:enum',
        'body:geschatteIntensiteitB1Route:minimum',
        'body:nivo:additionalProperties',
      ]),
    );
  });

  it('knows bodies: required, not allowed, media type', () => {
    expect(
      rules(specs.validateRequest('PUT', '/v1/personen/999990019/map', HEADERS, undefined)),
    ).toEqual(['body::required']);
    expect(rules(specs.validateRequest('GET', PIP_PATH, HEADERS, { x: 1 }))).toEqual([
      'body::no-body',
    ]);
    expect(
      rules(
        specs.validateRequest(
          'PUT',
          '/v1/personen/999990019/uren/participatietaalles',
          { ...HEADERS, 'content-type': 'text/plain' },
          { uren: 3 },
        ),
      ),
    ).toEqual(['header:content-type:media-type']);
    expect(
      specs.validateRequest('PUT', '/v1/personen/999990019/uren/participatietaalles', HEADERS, {
        uren: 10000,
      })[0],
    ).toMatchObject({ in: 'body', field: 'uren', rule: 'maximum' });
  });

  it('names unknown operations and a wrong base path', () => {
    expect(rules(specs.validateRequest('PATCH', PIP_PATH, HEADERS, undefined))).toEqual([
      'operation::operation',
    ]);
    expect(specs.validateRequest('GET', '/v1/onbekend', HEADERS, undefined)[0]?.message).toMatch(
      /no DUO API defines GET \/onbekend/,
    );
    expect(
      rules(specs.validateRequest('GET', '/v2/personen/999990019/PIP', HEADERS, undefined)),
    ).toEqual(['path::base-path']);
  });

  it('allows unknown body fields when asked to follow the spec literally', () => {
    const lenient = loadDuoSpecs(DEFAULT_DUO_SPEC_DIR, { rejectUnknownFields: false });
    expect(
      lenient.validateRequest('POST', PIP_PATH, HEADERS, {
        dagtekeningPip: '2026-02-01',
        leerroute: 'B',
        nivo: 'B1',
      }),
    ).toEqual([]);
  });

  it('passes correct responses', () => {
    expect(
      specs.validateResponse('POST', PIP_PATH, 201, { 'api-version': '1.2.0' }, undefined),
    ).toEqual([]);
    expect(
      specs.validateResponse(
        'GET',
        PIP_PATH,
        200,
        { 'API-Version': '1.2.0', 'content-type': 'application/json; charset=utf-8' },
        {
          gemeentecode: '0797',
          pip: { dagtekeningPip: '2026-02-01', leerroute: 'B', niveau: 'B1' },
        },
      ),
    ).toEqual([]);
    expect(
      specs.validateResponse(
        'PUT',
        '/v1/personen/999990019/pvt',
        403,
        { 'api-version': '1.0.0', 'content-type': 'application/json' },
        [{ fouttekst: 'mappvt.geen-actuele-pip: geen PIP' }],
      ),
    ).toEqual([]);
  });

  it('catches a malformed response: status, headers, body', () => {
    const json = { 'api-version': '1.2.0', 'content-type': 'application/json' };
    expect(rules(specs.validateResponse('GET', PIP_PATH, 418, json, undefined))).toEqual([
      'status::status',
    ]);
    expect(rules(specs.validateResponse('POST', PIP_PATH, 201, {}, undefined))).toEqual([
      'header:API-Version:required',
    ]);
    expect(
      rules(specs.validateResponse('POST', PIP_PATH, 201, { 'api-version': 'v1' }, undefined)),
    ).toEqual(['header:API-Version:pattern', 'header:API-Version:api-version']);
    expect(
      rules(specs.validateResponse('POST', PIP_PATH, 201, { 'api-version': '1.2.1' }, undefined)),
    ).toEqual(['header:API-Version:api-version']);
    // DUO documents no body for 400 and 404.
    expect(rules(specs.validateResponse('GET', PIP_PATH, 404, json, { fouttekst: 'x' }))).toEqual([
      'body::no-body',
    ]);
    expect(
      specs.validateResponse(
        'GET',
        PIP_PATH,
        404,
        json,
        { fouttekst: 'x' },
        { allowUndocumentedBody: true },
      ),
    ).toEqual([]);
    // A 403 of POST PIP is a list of Foutmeldingen, each fouttekst at most 200 characters.
    expect(rules(specs.validateResponse('POST', PIP_PATH, 403, json, { fouttekst: 'x' }))).toEqual([
      'body::type',
    ]);
    expect(
      rules(specs.validateResponse('POST', PIP_PATH, 403, json, [{ fouttekst: 'x'.repeat(201) }])),
    ).toEqual(['body:[0].fouttekst:maxLength']);
    expect(rules(specs.validateResponse('POST', PIP_PATH, 403, json, undefined))).toEqual([
      'body::required',
    ]);
    expect(
      rules(
        specs.validateResponse(
          'GET',
          PIP_PATH,
          200,
          { 'api-version': '1.2.0', 'content-type': 'text/html' },
          { gemeentecode: '0797', pip: { dagtekeningPip: '2026-02-01', leerroute: 'B' } },
        ),
      ),
    ).toEqual(['header:content-type:media-type']);
    expect(
      rules(
        specs.validateResponse(
          'GET',
          '/v1/personen/999990019/lbt/resultaten',
          200,
          { 'api-version': '1.2.0', 'content-type': 'application/json' },
          [
            {
              resultaat: 'B1-route haalbaar',
              behaaldeScore: '61.5',
              benodigdeScore: '55,00',
              datumAfname: '2026-03-01',
            },
          ],
        ),
      ),
    ).toEqual(['body:[0].behaaldeScore:pattern ^(\\d{1,3},\\d{2})$']);
  });

  it("checks the hub's side of the Notificatie API", () => {
    const body = {
      registratieDatumTijd: '2026-03-01T10:00:00.000Z',
      gebeurtenisId: 'SS131',
      bsn: '999990019',
      vNummer: 1234567890,
    };
    const notif = { ...HEADERS, bron: HEADERS.doel, doel: HEADERS.bron, 'API-Version': '1.8.0' };
    expect(specs.validateRequest('POST', '/notificaties', notif, body)).toEqual([]);
    expect(
      rules(
        specs.validateRequest('POST', '/v1/notificaties', notif, {
          ...body,
          vNummer: '1234567890',
          gebeurtenisId: 'ss131',
          registratieDatumTijd: '2026-03-01',
        }),
      ),
    ).toEqual([
      'body:registratieDatumTijd:format:date-time',
      'body:vNummer:type',
      'body:gebeurtenisId:pattern ^[0-9A-Z]{1,6}$',
    ]);
    expect(
      specs.validateResponse('POST', '/notificaties', 201, { 'api-version': '1.8.0' }, undefined),
    ).toEqual([]);
    expect(
      rules(
        specs.validateResponse(
          'POST',
          '/notificaties',
          503,
          { 'api-version': '1.8.0', 'content-type': 'application/json' },
          {},
        ),
      ),
    ).toEqual(['body:fouttekst:required']);
  });
});

describe('OpenAPI 3.0 → JSON Schema translation', () => {
  // A small spec of our own, so the translation is tested whatever DUO's files contain.
  const dir = mkdtempSync(join(tmpdir(), 'duo-spec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'Proef.openapi.yml'),
    `openapi: 3.0.0
info: { title: Proef API, version: 2.1.0 }
paths:
  /dingen/{id}:
    parameters:
      - { name: id, in: path, required: true, schema: { type: integer, minimum: 1 } }
    put:
      operationId: putDing
      parameters:
        - { name: modus, in: query, required: true, schema: { type: string, enum: [snel, zorgvuldig] } }
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: '#/components/schemas/Ding' }
      responses:
        '204': { description: ok }
        '4XX':
          description: fout
          content:
            application/json:
              schema: { $ref: '#/components/schemas/Ding' }
components:
  schemas:
    Ding:
      type: object
      x-intern: true
      required: [example]
      properties:
        example: { type: string, nullable: true, example: voorbeeld }
        nullable: { type: integer, exclusiveMinimum: true, minimum: 0 }
        soort: { type: string, enum: [a, b], nullable: true }
        ouder: { $ref: '#/components/schemas/Ouder', nullable: true }
    Ouder:
      type: object
      properties: { naam: { type: string } }
`,
  );
  const specs = loadDuoSpecs(dir);
  const path = '/v2/dingen/3?modus=snel';

  it('translates nullable, boolean exclusiveMinimum, x- keys and $ref; keeps keyword-named properties', () => {
    expect(specs.apis).toEqual([
      { name: 'Proef', title: 'Proef API', version: '2.1.0', file: 'Proef.openapi.yml' },
    ]);
    const ok = { example: null, nullable: 1, soort: null, ouder: null };
    expect(specs.validateRequest('PUT', path, { 'content-type': 'application/json' }, ok)).toEqual(
      [],
    );
    const bad = { nullable: 0, soort: 'c', ouder: { naam: 5, x: 1 } };
    expect(
      rules(specs.validateRequest('PUT', path, { 'content-type': 'application/json' }, bad)),
    ).toEqual([
      'body:example:required',
      'body:nullable:exclusiveMinimum',
      'body:soort:enum',
      'body:ouder.x:additionalProperties',
      'body:ouder.naam:type',
      'body:ouder:type',
    ]);
  });

  it('checks path-level and query parameters, coercing path numbers', () => {
    const body = { example: 'x' };
    const h = { 'content-type': 'application/json' };
    expect(rules(specs.validateRequest('PUT', '/dingen/0', h, body))).toEqual([
      'path:id:minimum',
      'query:modus:required',
    ]);
    expect(rules(specs.validateRequest('PUT', '/dingen/abc?modus=traag', h, body))).toEqual([
      'path:id:type',
      'query:modus:enum',
    ]);
  });

  it('matches status ranges', () => {
    expect(specs.validateResponse('PUT', path, 204, {}, undefined)).toEqual([]);
    expect(
      specs.validateResponse(
        'PUT',
        path,
        422,
        { 'content-type': 'application/json' },
        { example: 'x' },
      ),
    ).toEqual([]);
    expect(rules(specs.validateResponse('PUT', path, 500, {}, undefined))).toEqual([
      'status::status',
    ]);
  });

  it('refuses a folder without specs', () => {
    const empty = mkdtempSync(join(tmpdir(), 'duo-empty-'));
    try {
      expect(duoSpecsAvailable(empty)).toBe(false);
      expect(() => loadDuoSpecs(empty)).toThrow(/holds no/);
      expect(() => loadDuoSpecs(join(empty, 'nope'))).toThrow(/does not exist/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
