/** SASL for outbox: the mechanisms, the registry and the choice policy. Pure: no sockets, no SMTP. */
export type { ChannelBinding, Credentials, MechanismFactory, SaslSession, SaslStep } from './mechanism.js';
export { MECHANISMS, MECHANISM_NAMES, UNSUPPORTED_MECHANISMS, findMechanism, isMechanismName, type LookupOptions, type MechanismName } from './registry.js';
export { AUTO_ORDER_PLAINTEXT, AUTO_ORDER_TLS, chooseMechanism, type ChooseOptions, type ChooseResult } from './choose.js';
export { MAX_ITERATIONS, MIN_ITERATIONS, scramMechanism, type ScramHash, type ScramOptions } from './scram.js';
export { saslprep, type SaslprepResult } from './saslprep.js';
