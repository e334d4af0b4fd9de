// Keys at rest in the browser: the CLI's wallet file format ("libra-wallet/1"),
// Argon2id (RFC 9106) + XSalsa20-Poly1305 (libsodium secretbox), kept in localStorage.
// Files made here open with `libra wallet import --wallet-file` and vice versa.

import { argon2idAsync } from '@noble/hashes/argon2.js';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { UserError, addressOf, bytesToHex, hexToBytes, publicKeyOf } from './diem.js';

const STORAGE_KEY = 'libra.wallet.accounts';
const FORMAT = 'libra-wallet/1';
// OWASP's Argon2id minimum (19 MiB, 2 passes): about half a second in a phone's browser.
const KDF = { opslimit: 2, memlimit: 19456 * 1024 };
export const MIN_PASSPHRASE = 8;

function random(n) {
  return crypto.getRandomValues(new Uint8Array(n));
}

async function derive(passphrase, kdf) {
  return argon2idAsync(new TextEncoder().encode(passphrase), hexToBytes(kdf.salt), {
    t: kdf.opslimit,
    m: Math.floor(kdf.memlimit / 1024),
    p: 1,
    dkLen: 32,
  });
}

export function loadAccounts() {
  try {
    const list = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]');
    return Array.isArray(list) ? list.filter((d) => d && d.format === FORMAT) : [];
  } catch {
    return [];
  }
}

function saveAccounts(list) {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(list));
}

export function checkName(name, accounts) {
  const value = name.trim();
  if (!value) throw new UserError('Give the account a name.');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/.test(value)) {
    throw new UserError('Names have 1-32 letters, digits, “_”, “-” or “.”, starting with a letter or digit.');
  }
  if (accounts.some((a) => a.name === value)) throw new UserError(`There is already an account named “${value}”.`);
  return value;
}

export function checkNewPassphrase(passphrase, confirmation) {
  if (passphrase.length < MIN_PASSPHRASE) {
    throw new UserError(`The passphrase needs at least ${MIN_PASSPHRASE} characters.`);
  }
  if (confirmation !== undefined && passphrase !== confirmation) throw new UserError('The two passphrases differ.');
}

export async function sealAccount(name, privateKey, passphrase) {
  const kdf = { name: 'argon2id', salt: bytesToHex(random(16)), ...KDF };
  const key = await derive(passphrase, kdf);
  const nonce = random(24);
  const ciphertext = xsalsa20poly1305(key, nonce).encrypt(privateKey);
  const publicKey = publicKeyOf(privateKey);
  return {
    format: FORMAT,
    name,
    address: bytesToHex(addressOf(publicKey)),
    public_key: bytesToHex(publicKey),
    kdf,
    cipher: { name: 'xsalsa20poly1305', nonce: bytesToHex(nonce), ciphertext: bytesToHex(ciphertext) },
    created: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

export async function unseal(document, passphrase) {
  if (document?.kdf?.name !== 'argon2id' || document?.cipher?.name !== 'xsalsa20poly1305') {
    throw new UserError('This wallet file uses an encryption this page does not know.');
  }
  const key = await derive(passphrase, document.kdf);
  let seed;
  try {
    seed = xsalsa20poly1305(key, hexToBytes(document.cipher.nonce)).decrypt(hexToBytes(document.cipher.ciphertext));
  } catch {
    throw new UserError('Wrong passphrase.');
  }
  if (bytesToHex(publicKeyOf(seed)) !== document.public_key) throw new UserError('This wallet file is damaged.');
  return seed;
}

export function addAccount(document) {
  const accounts = loadAccounts();
  if (accounts.some((a) => a.address === document.address)) {
    throw new UserError('This key is already in this browser.');
  }
  accounts.push(document);
  saveAccounts(accounts);
}
