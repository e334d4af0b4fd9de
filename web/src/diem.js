// Diem wire formats for the web wallet: BCS, keys and addresses, DIP-5 identifiers,
// intent URIs, Diem IDs, amounts, peer_to_peer_with_metadata transactions and payment
// events. Mirrors src/libra/client/{identifiers,builders,wallet}.py; money is BigInt
// micro-units, never a float.

import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { sha3_256 } from '@noble/hashes/sha3.js';
import { bech32 } from '@scure/base';

ed.hashes.sha512 = sha512; // synchronous signing, also on plain-http pages (no WebCrypto)

const enc = new TextEncoder();
export const U64_MAX = (1n << 64n) - 1n;
export const MICRO = 1000000n;
export const ADDRESS_LENGTH = 16;
export const SUBADDRESS_LENGTH = 8;
export const CORE_ADDRESS = hexToBytes('00000000000000000000000000000001');
export const TC_ADDRESS = '0000000000000000000000000b1e55ed';
export const CHAIN_HRPS = { 1: 'dm', 2: 'tdm', 3: 'tdm', 4: 'tdm', 5: 'pdm' };

/** An error whose message is meant for the user, as is. */
export class UserError extends Error {}

// --- bytes -----------------------------------------------------------------------------------

export function hexToBytes(hex) {
  if (hex.length % 2 || /[^0-9a-fA-F]/.test(hex)) throw new UserError('not hex');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function equalBytes(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// --- BCS -------------------------------------------------------------------------------------

export class BcsWriter {
  constructor() {
    this.parts = [];
  }
  raw(bytes) {
    this.parts.push(bytes);
    return this;
  }
  u8(v) {
    return this.raw(Uint8Array.of(v));
  }
  u64(v) {
    const out = new Uint8Array(8);
    let x = BigInt(v);
    if (x < 0n || x > U64_MAX) throw new Error('u64 out of range');
    for (let i = 0; i < 8; i++) {
      out[i] = Number(x & 0xffn);
      x >>= 8n;
    }
    return this.raw(out);
  }
  uleb(v) {
    const out = [];
    let x = v;
    do {
      let b = x & 0x7f;
      x = Math.floor(x / 128);
      if (x) b |= 0x80;
      out.push(b);
    } while (x);
    return this.raw(Uint8Array.from(out));
  }
  bytes(b) {
    return this.uleb(b.length).raw(b);
  }
  str(s) {
    return this.bytes(enc.encode(s));
  }
  option(value, write) {
    if (value === null || value === undefined) return this.u8(0);
    this.u8(1);
    write(this, value);
    return this;
  }
  out() {
    return concat(...this.parts);
  }
}

class BcsReader {
  constructor(bytes) {
    this.b = bytes;
    this.i = 0;
  }
  take(n) {
    if (this.i + n > this.b.length) throw new Error('short');
    const out = this.b.slice(this.i, this.i + n);
    this.i += n;
    return out;
  }
  u8() {
    return this.take(1)[0];
  }
  uleb() {
    let value = 0;
    let shift = 1;
    for (;;) {
      const byte = this.u8();
      value += (byte & 0x7f) * shift;
      if (!(byte & 0x80)) return value;
      shift *= 128;
      if (shift > 2 ** 35) throw new Error('uleb');
    }
  }
  bytes() {
    return this.take(this.uleb());
  }
  u64() {
    const b = this.take(8);
    let x = 0n;
    for (let i = 7; i >= 0; i--) x = (x << 8n) | BigInt(b[i]);
    return x;
  }
  option(read) {
    const tag = this.u8();
    if (tag === 0) return null;
    if (tag !== 1) throw new Error('option');
    return read(this);
  }
}

// --- keys and hashes -------------------------------------------------------------------------

export const seed = (name) => sha3_256(enc.encode(`DIEM::${name}`));
const RAW_TXN_SEED = seed('RawTransaction');
const TXN_SEED = seed('Transaction');

export function newPrivateKey() {
  return ed.utils.randomSecretKey();
}

export function publicKeyOf(privateKey) {
  return ed.getPublicKey(privateKey);
}

export function authKeyOf(publicKey) {
  return sha3_256(concat(publicKey, Uint8Array.of(0)));
}

export function addressOf(publicKey) {
  return authKeyOf(publicKey).slice(16);
}

export function parsePrivateKey(text) {
  let hex = text.trim();
  if (hex.startsWith('0x') || hex.startsWith('0X')) hex = hex.slice(2);
  if (!hex) throw new UserError('Enter the private key.');
  if (hex.length !== 64) throw new UserError(`A private key has 64 hex characters; this one has ${hex.length}.`);
  if (/[^0-9a-fA-F]/.test(hex)) throw new UserError('The private key may only hold the characters 0-9 and a-f.');
  return hexToBytes(hex);
}

// --- amounts ---------------------------------------------------------------------------------

/** "12.5" -> 12500000n; throws UserError with a sentence for anything else. */
export function parseAmount(text) {
  const value = (text ?? '').trim();
  if (!value) throw new UserError('Enter an amount.');
  if (value.startsWith('-')) throw new UserError('The amount must be more than zero.');
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value)) {
    throw new UserError(`“${value}” is not an amount. Use digits and at most one dot, like 12.5.`);
  }
  const [whole, fraction = ''] = value.split('.');
  if (fraction.length > 6) throw new UserError('Amounts have at most 6 decimals (the smallest unit is 0.000001).');
  const micro = BigInt(whole) * MICRO + BigInt(fraction.padEnd(6, '0') || '0');
  if (micro === 0n) throw new UserError('The amount must be more than zero.');
  if (micro > U64_MAX) throw new UserError('The amount is too large.');
  return micro;
}

/** 12500000n -> "12.50" (2 to 6 decimals, thousands separated). */
export function formatAmount(micro, currency) {
  const value = BigInt(micro);
  const whole = value / MICRO;
  let fraction = (value % MICRO).toString().padStart(6, '0').replace(/0+$/, '');
  fraction = fraction.padEnd(2, '0');
  const text = `${whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${fraction}`;
  return currency ? `${text} ${currency}` : text;
}

// --- identifiers, intents, Diem IDs ----------------------------------------------------------

export function encodeIdentifier(address, subaddress, hrp) {
  const payload = concat(address, subaddress ?? new Uint8Array(SUBADDRESS_LENGTH));
  return bech32.encode(hrp, [1, ...bech32.toWords(payload)], 1023);
}

export function decodeIdentifier(text, hrp) {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) {
    throw new UserError('An account identifier is all lower case (or all upper case).');
  }
  const lowered = text.toLowerCase();
  const sep = lowered.lastIndexOf('1');
  if (sep < 1) throw new UserError(`“${text}” is not an account identifier.`);
  const prefix = lowered.slice(0, sep);
  if (prefix !== hrp) {
    throw new UserError(
      `This identifier is for another network (it starts with “${prefix}”; this network uses “${hrp}”).`,
    );
  }
  let decoded;
  try {
    decoded = bech32.decode(lowered, 1023);
  } catch {
    throw new UserError('This account identifier is mistyped (its checksum does not match).');
  }
  const [version, ...words] = decoded.words;
  if (version !== 1) throw new UserError('This account identifier has an unknown version.');
  let payload;
  try {
    payload = bech32.fromWords(words);
  } catch {
    throw new UserError('This account identifier is malformed.');
  }
  if (payload.length !== ADDRESS_LENGTH + SUBADDRESS_LENGTH) {
    throw new UserError('This account identifier has the wrong length.');
  }
  const address = payload.slice(0, ADDRESS_LENGTH);
  const sub = payload.slice(ADDRESS_LENGTH);
  return { address, subaddress: sub.every((b) => b === 0) ? null : sub };
}

export function encodeIntent(identifier, currency, amount) {
  const params = [];
  if (currency) params.push(`c=${currency}`);
  if (amount && amount > 0n) params.push(`am=${amount}`);
  return `diem://${identifier}${params.length ? '?' + params.join('&') : ''}`;
}

export function decodeIntent(uri, hrp) {
  const match = /^diem:\/\/([^?#/]*)(\?[^#]*)?$/i.exec(uri.trim());
  if (!match) throw new UserError('This payment link is not of the form diem://<identifier>?c=…&am=….');
  const account = decodeIdentifier(match[1], hrp);
  const params = new URLSearchParams(match[2] ? match[2].slice(1) : '');
  const seen = new Set();
  for (const key of params.keys()) {
    if (seen.has(key)) throw new UserError(`This payment link repeats “${key}”.`);
    seen.add(key);
  }
  let currency = params.get('c');
  if (currency !== null) {
    if (!/^[A-Za-z0-9]{1,16}$/.test(currency)) throw new UserError('This payment link has a bad currency.');
    currency = currency.toUpperCase();
  }
  let amount = null;
  const am = params.get('am');
  if (am !== null) {
    if (!/^[0-9]+$/.test(am) || BigInt(am) === 0n || BigInt(am) > U64_MAX) {
      throw new UserError('This payment link has a bad amount.');
    }
    amount = BigInt(am);
  }
  return { ...account, currency, amount };
}

const DIEM_ID_PART = /^[A-Za-z0-9.]+$/;

export function parseDiemId(text) {
  const at = text.indexOf('@');
  const user = text.slice(0, at);
  const domain = text.slice(at + 1);
  if (at < 0 || !user || !domain) throw new UserError('A Diem ID looks like name@domain.');
  if (user.length > 64 || !DIEM_ID_PART.test(user)) {
    throw new UserError('The name part of a Diem ID has 1-64 letters, digits or dots.');
  }
  if (domain.length > 63 || !DIEM_ID_PART.test(domain)) {
    throw new UserError('The domain part of a Diem ID has 1-63 letters, digits or dots.');
  }
  return { user, domain };
}

/**
 * What the user typed in "To": {kind, address?, subaddress, currency, amount, diemId?}.
 * Diem IDs come back unresolved (kind 'diem_id'); resolve them with the node.
 */
export function parseRecipient(text, hrp) {
  const value = (text ?? '').trim();
  if (!value) throw new UserError('Enter who to pay: an identifier, a name@domain handle or a diem:// link.');
  if (/^diem:/i.test(value)) return { kind: 'intent', ...decodeIntent(value, hrp) };
  if (value.includes('@')) return { kind: 'diem_id', ...parseDiemId(value), subaddress: null, currency: null, amount: null };
  if (/^(0x)?[0-9a-fA-F]{32}$/.test(value)) {
    return { kind: 'address', address: hexToBytes(value.replace(/^0x/i, '')), subaddress: null, currency: null, amount: null };
  }
  if (!value.includes('1')) {
    throw new UserError(
      `“${value}” is not a recipient. Enter an identifier (${hrp}1…), a name@domain handle, a diem:// link or a 32-hex-digit address.`,
    );
  }
  return { kind: 'identifier', ...decodeIdentifier(value, hrp), currency: null, amount: null };
}

// --- metadata and transactions ---------------------------------------------------------------

export function generalMetadata(toSubaddress) {
  const w = new BcsWriter().uleb(1).uleb(0);
  w.option(toSubaddress, (x, v) => x.bytes(v));
  w.option(null);
  w.option(null);
  return w.out();
}

export function decodeGeneralMetadata(bytes) {
  try {
    const r = new BcsReader(bytes);
    if (r.uleb() !== 1 || r.uleb() !== 0) return null;
    const to = r.option((x) => x.bytes());
    const from = r.option((x) => x.bytes());
    r.option((x) => x.u64());
    if (r.i !== bytes.length) return null;
    return { to: to && to.length === 8 ? to : null, from: from && from.length === 8 ? from : null };
  } catch {
    return null;
  }
}

function currencyTag(w, code) {
  w.uleb(7).raw(CORE_ADDRESS).str(code).str(code).uleb(0);
}

export function p2pPayload(currency, payee, amount, metadata) {
  const w = new BcsWriter().uleb(3); // TransactionPayload::ScriptFunction
  w.raw(CORE_ADDRESS).str('PaymentScripts').str('peer_to_peer_with_metadata');
  w.uleb(1);
  currencyTag(w, currency);
  w.uleb(4);
  w.bytes(payee);
  w.bytes(new BcsWriter().u64(amount).out());
  w.bytes(new BcsWriter().bytes(metadata).out());
  w.bytes(new BcsWriter().bytes(new Uint8Array(0)).out());
  return w.out();
}

/** Signs a payment; returns {bytes, hash} (hex) of the SignedTransaction. */
export function signPayment({ privateKey, sender, sequenceNumber, currency, payee, amount, metadata, chainId, expiration }) {
  const raw = new BcsWriter()
    .raw(sender)
    .u64(sequenceNumber)
    .raw(p2pPayload(currency, payee, amount, metadata))
    .u64(1000000) // max gas amount
    .u64(0) // gas unit price
    .str(currency)
    .u64(expiration)
    .u8(chainId)
    .out();
  const signature = ed.sign(concat(RAW_TXN_SEED, raw), privateKey);
  const signed = new BcsWriter().raw(raw).uleb(0).bytes(publicKeyOf(privateKey)).bytes(signature).out();
  const hash = sha3_256(concat(TXN_SEED, Uint8Array.of(0), signed));
  return { bytes: bytesToHex(signed), hash: bytesToHex(hash) };
}

/** A payment event as a history entry, or null for other events. */
export function paymentOf(event) {
  const data = event.data ?? {};
  if (data.type !== 'sentpayment' && data.type !== 'receivedpayment') return null;
  const sent = data.type === 'sentpayment';
  let meta = null;
  try {
    meta = data.metadata ? decodeGeneralMetadata(hexToBytes(data.metadata)) : null;
  } catch {
    meta = null;
  }
  return {
    id: `${event.key}:${event.sequence_number}`,
    version: Number(event.transaction_version),
    direction: sent ? 'sent' : 'received',
    counterparty: sent ? data.receiver : data.sender,
    amount: BigInt(data.amount.amount),
    currency: data.amount.currency,
    subaddress: meta ? meta.to : null,
  };
}
