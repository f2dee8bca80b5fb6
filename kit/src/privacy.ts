// `@ketenhub/kit/privacy`: what decides and records what personal data goes where. The policy
// (projection, what a partner may send), the processing log, pseudonyms, the person register,
// the identity store and its handler, and the BSN, V-nummer and IBAN rules.
export * from './policy.ts';
export * from './processing-log.ts';
export * from './pseudonym.ts';
export * from './person-register.ts';
export * from './identity-store.ts';
export * from './identity-handler.ts';
export * from './identifiers.ts';
export * from './iban.ts';
