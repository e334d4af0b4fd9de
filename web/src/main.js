// The web wallet page: accounts kept encrypted in this browser, balance, send (identifier,
// handle, pasted or scanned payment link), receive (QR code), live history (push stream).

import { renderSVG } from 'uqr';
import jsQR from 'jsqr';
import {
  CHAIN_HRPS,
  UserError,
  authKeyOf,
  bytesToHex,
  encodeIdentifier,
  encodeIntent,
  formatAmount,
  generalMetadata,
  hexToBytes,
  newPrivateKey,
  parseAmount,
  parseDiemId,
  parsePrivateKey,
  parseRecipient,
  paymentOf,
  signPayment,
} from './diem.js';
import { Node, RpcError } from './rpc.js';
import * as keystore from './keystore.js';

const $ = (id) => document.getElementById(id);
const node = new Node('');

const state = {
  hrp: 'tdm',
  chainId: null,
  currencies: ['XUS'],
  doc: null, // the unlocked account's wallet document
  key: null, // its private key (memory only, while unlocked)
  account: null, // its on-chain account view
  payments: new Map(),
  stream: null,
  busy: false,
};

// --- messages in words -------------------------------------------------------------------------

const VALIDATION_WORDS = {
  SEQUENCE_NUMBER_TOO_OLD: 'Another payment from this account was just sent. Try again.',
  SENDING_ACCOUNT_FROZEN: 'This account is frozen: it cannot send payments.',
  INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE: 'Not enough money to pay the transaction fee.',
  TRANSACTION_EXPIRED: 'The payment expired before the network took it. Is this device’s clock right?',
  BAD_CHAIN_ID: 'The payment was signed for another network.',
  SENDING_ACCOUNT_DOES_NOT_EXIST: 'This account does not exist on the network yet. Get test coins first.',
  INVALID_AUTH_KEY: 'This key no longer controls the account.',
};
const ABORT_WORDS = {
  EINSUFFICIENT_BALANCE: 'Not enough money in this account.',
  EPAYEE_CANT_ACCEPT_CURRENCY_TYPE: 'The recipient cannot receive this currency.',
  EPAYER_DOESNT_HOLD_CURRENCY: 'This account does not hold this currency.',
  EACCOUNT_FROZEN: 'An account in this payment is frozen.',
  EPAYEE_DOES_NOT_EXIST: 'The recipient’s account does not exist.',
};

function words(error) {
  if (error instanceof UserError) return error.message;
  if (error instanceof RpcError) {
    for (const [status, text] of Object.entries(VALIDATION_WORDS)) {
      if (error.rpcMessage.includes(status)) return text;
    }
    return `The network refused: ${error.rpcMessage.replace(/^Server error:\s*/, '')}`;
  }
  console.error(error);
  return `Something went wrong: ${error?.message ?? error}`;
}

function say(id, text) {
  $(id).textContent = text ?? '';
}

function show(view) {
  for (const name of ['view-setup', 'view-unlock', 'view-main']) $(name).hidden = name !== view;
}

async function busy(button, work) {
  if (state.busy && button.id === 'send-btn') return;
  button.disabled = true;
  if (button.id === 'send-btn') state.busy = true;
  try {
    await work();
  } finally {
    button.disabled = false;
    if (button.id === 'send-btn') state.busy = false;
  }
}

// --- network ---------------------------------------------------------------------------------

async function connect() {
  try {
    const metadata = await node.getMetadata();
    state.chainId = metadata.chain_id;
    state.hrp = CHAIN_HRPS[metadata.chain_id] ?? 'tdm';
    const currencies = await node.getCurrencies();
    state.currencies = currencies.map((c) => c.code);
    for (const id of ['send-currency', 'receive-currency', 'fund-currency']) {
      $(id).replaceChildren(...state.currencies.map((code) => new Option(code, code, code === 'XUS', code === 'XUS')));
    }
    $('faucet-card').hidden = state.chainId === 1;
    setNet(`chain ${state.chainId} · version ${metadata.version}`, true);
  } catch (error) {
    setNet('offline', false);
    say('fatal', `${words(error)} The wallet needs its node; reload the page when it is back.`);
    $('fatal').hidden = false;
  }
}

function setNet(text, live) {
  const el = $('net-status');
  el.textContent = text;
  el.classList.toggle('live', live);
  el.classList.toggle('down', !live);
}

// --- accounts --------------------------------------------------------------------------------

function start() {
  const accounts = keystore.loadAccounts();
  if (accounts.length === 0) {
    $('show-unlock').hidden = true;
    show('view-setup');
    return;
  }
  $('unlock-select').replaceChildren(...accounts.map((a) => new Option(`${a.name} (${a.address.slice(0, 8)}…)`, a.address)));
  $('show-unlock').hidden = false;
  show('view-unlock');
  $('unlock-pass').focus();
}

async function onCreate(event) {
  event.preventDefault();
  say('create-error');
  await busy($('create-btn'), async () => {
    try {
      const name = keystore.checkName($('create-name').value, keystore.loadAccounts());
      keystore.checkNewPassphrase($('create-pass').value, $('create-pass2').value);
      const key = newPrivateKey();
      const doc = await keystore.sealAccount(name, key, $('create-pass').value);
      keystore.addAccount(doc);
      $('create-form').reset();
      if (state.chainId !== 1) {
        // On a test network the faucet opens the account (with nothing in it), so it can be paid at once.
        say('create-error');
        try {
          await node.mint(bytesToHex(authKeyOf(hexToBytes(doc.public_key))), 0n, state.currencies.includes('XUS') ? 'XUS' : state.currencies[0]);
        } catch {
          // the account stays local until it is funded; refreshAccount() says so
        }
      }
      await enter(doc, key);
    } catch (error) {
      say('create-error', words(error));
    }
  });
}

async function onImport(event) {
  event.preventDefault();
  say('import-error');
  await busy($('import-btn'), async () => {
    try {
      const accounts = keystore.loadAccounts();
      const name = keystore.checkName($('import-name').value, accounts);
      const text = $('import-key').value.trim();
      const passphrase = $('import-pass').value;
      let doc;
      let key;
      if (text.startsWith('{')) {
        let file;
        try {
          file = JSON.parse(text);
        } catch {
          throw new UserError('The wallet file is not valid JSON.');
        }
        if (file.format !== 'libra-wallet/1') throw new UserError('This is not a libra wallet file.');
        if (!passphrase) throw new UserError('Enter the passphrase of this wallet file.');
        key = await keystore.unseal(file, passphrase);
        doc = { ...file, name };
      } else {
        key = parsePrivateKey(text);
        keystore.checkNewPassphrase(passphrase);
        doc = await keystore.sealAccount(name, key, passphrase);
      }
      keystore.addAccount(doc);
      $('import-form').reset();
      await enter(doc, key);
    } catch (error) {
      say('import-error', words(error));
    }
  });
}

async function onUnlock(event) {
  event.preventDefault();
  say('unlock-error');
  await busy($('unlock-btn'), async () => {
    try {
      const doc = keystore.loadAccounts().find((a) => a.address === $('unlock-select').value);
      if (!doc) throw new UserError('Choose an account.');
      if (!$('unlock-pass').value) throw new UserError('Enter the passphrase.');
      const key = await keystore.unseal(doc, $('unlock-pass').value);
      $('unlock-pass').value = '';
      await enter(doc, key);
    } catch (error) {
      say('unlock-error', words(error));
    }
  });
}

function lock() {
  state.stream?.close();
  state.stream = null;
  state.key = null;
  state.doc = null;
  state.account = null;
  state.payments.clear();
  $('history').replaceChildren();
  for (const id of ['send-error', 'send-status', 'receive-error', 'fund-error', 'fund-status']) say(id);
  $('receive-out').hidden = true;
  start();
}

async function enter(doc, key) {
  state.doc = doc;
  state.key = key;
  state.payments.clear();
  $('history').replaceChildren();
  say('account-name', doc.name);
  say('identifier', encodeIdentifier(hexToBytes(doc.address), null, state.hrp));
  show('view-main');
  await refreshAccount();
  await loadHistory();
}

async function refreshAccount() {
  if (!state.doc) return;
  try {
    state.account = await node.getAccount(state.doc.address);
  } catch (error) {
    say('account-note', words(error));
    return;
  }
  const balances = new Map((state.account?.balances ?? []).map((b) => [b.currency, BigInt(b.amount)]));
  const main = balances.get('XUS') ?? 0n;
  $('balance').dataset.micro = main.toString();
  say('balance', formatAmount(main));
  say(
    'other-balances',
    [...balances].filter(([c]) => c !== 'XUS').map(([c, a]) => formatAmount(a, c)).join(' · '),
  );
  if (!state.account) {
    say('account-note', state.chainId === 1 ? 'This account is not on the network yet: receive a payment to create it.'
      : 'This account is not on the network yet: get test coins below to create it.');
  } else if (state.account.is_frozen) {
    say('account-note', 'This account is frozen: it cannot send payments.');
  } else {
    const domains = state.account.role?.diem_id_domains ?? [];
    say('account-note', domains.length ? `Diem ID domain: ${domains.join(', ')}` : '');
  }
}

// --- history and live updates ----------------------------------------------------------------

async function loadHistory() {
  const doc = state.doc;
  let since = node.version;
  try {
    const account = state.account;
    if (account) {
      const [sent, received] = await Promise.all([
        node.getAllEvents(account.sent_events_key),
        node.getAllEvents(account.received_events_key),
      ]);
      since = Math.max(since, node.version);
      for (const event of [...sent, ...received]) addPayment(paymentOf(event));
    }
  } catch (error) {
    say('account-note', words(error));
  }
  if (doc === state.doc) openStream(since);
}

function openStream(since) {
  state.stream?.close();
  const source = node.stream(state.doc.address, since);
  state.stream = source;
  source.addEventListener('event', (message) => {
    const payment = paymentOf(JSON.parse(message.data));
    if (payment && addPayment(payment)) refreshAccount();
  });
  source.addEventListener('ledger', (message) => {
    const { version } = JSON.parse(message.data);
    setNet(`chain ${state.chainId} · version ${version}`, true);
  });
  source.addEventListener('gap', () => {
    loadHistory();
  });
  source.addEventListener('overflow', () => {
    refreshAccount();
  });
  source.onerror = () => setNet('reconnecting…', false);
}

function addPayment(payment) {
  if (!payment || state.payments.has(payment.id)) return false;
  state.payments.set(payment.id, payment);
  const received = payment.direction === 'received';
  const li = document.createElement('li');
  li.className = `payment ${payment.direction}`;
  li.dataset.version = String(payment.version);
  li.dataset.direction = payment.direction;
  li.dataset.amount = payment.amount.toString();
  li.dataset.currency = payment.currency;
  const amount = document.createElement('span');
  amount.className = 'amount';
  amount.textContent = `${received ? '+' : '−'}${formatAmount(payment.amount, payment.currency)}`;
  const who = document.createElement('span');
  who.className = 'who';
  const other = encodeIdentifier(hexToBytes(payment.counterparty), null, state.hrp);
  who.textContent = `${received ? 'from' : 'to'} ${payment.counterparty === '000000000000000000000000000000dd' ? 'the faucet' : other}`;
  const version = document.createElement('span');
  version.className = 'version';
  version.textContent = `version ${payment.version}`;
  li.append(amount, who, version);
  const list = $('history');
  const after = [...list.children].find((el) => Number(el.dataset.version) < payment.version);
  list.insertBefore(li, after ?? null);
  $('history-empty').hidden = list.children.length > 0;
  return true;
}

// --- send ------------------------------------------------------------------------------------

function onToInput() {
  say('send-hint');
  const text = $('send-to').value.trim();
  if (!/^diem:/i.test(text)) return;
  try {
    const intent = parseRecipient(text, state.hrp);
    if (intent.amount) $('send-amount').value = formatAmount(intent.amount).replace(/,/g, '');
    if (intent.currency && state.currencies.includes(intent.currency)) $('send-currency').value = intent.currency;
    if (intent.amount || intent.currency) say('send-hint', 'Amount and currency come from the payment link.');
  } catch (error) {
    say('send-hint', words(error));
  }
}

async function resolve(recipient) {
  if (recipient.kind !== 'diem_id') return recipient;
  const domains = await node.diemIdDomains();
  const address = domains.get(recipient.domain);
  if (!address) throw new UserError(`Nobody on this network has the handle domain “${recipient.domain}”.`);
  return { ...recipient, address: hexToBytes(address) };
}

async function onSend(event) {
  event.preventDefault();
  say('send-error');
  say('send-status');
  await busy($('send-btn'), async () => {
    try {
      const recipient = await resolve(parseRecipient($('send-to').value, state.hrp));
      const typed = $('send-amount').value.trim();
      let amount = typed ? parseAmount(typed) : null;
      if (recipient.amount) {
        if (amount !== null && amount !== recipient.amount) {
          throw new UserError(`The payment link asks for ${formatAmount(recipient.amount)}; the amount field says ${formatAmount(amount)}.`);
        }
        amount = recipient.amount;
      }
      if (amount === null) parseAmount(''); // "Enter an amount."
      let currency = $('send-currency').value;
      if (recipient.currency && recipient.currency !== currency) {
        throw new UserError(`The payment link asks for ${recipient.currency}, not ${currency}.`);
      }
      if (!state.currencies.includes(currency)) throw new UserError(`${currency} is not a currency of this network.`);
      const payee = bytesToHex(recipient.address);
      if (payee === state.doc.address) throw new UserError('That is this account. Choose someone else to pay.');
      const me = await node.getAccount(state.doc.address);
      if (!me) throw new UserError('This account is not on the network yet. Get test coins first.');
      if (me.is_frozen) throw new UserError('This account is frozen: it cannot send payments.');
      const balance = BigInt(me.balances.find((b) => b.currency === currency)?.amount ?? 0);
      if (balance < amount) {
        throw new UserError(`Not enough money: sending ${formatAmount(amount, currency)} needs more than the ${formatAmount(balance, currency)} in this account.`);
      }
      const them = await node.getAccount(payee);
      if (!them) throw new UserError('Nobody has this account on this network. Check the recipient.');
      if (!them.balances.some((b) => b.currency === currency)) throw new UserError(`The recipient cannot receive ${currency}.`);
      if (them.is_frozen) throw new UserError('The recipient’s account is frozen.');
      const expiration = Math.floor(Math.max(Date.now() / 1000, node.timestampUsecs / 1e6)) + 30;
      const signed = signPayment({
        privateKey: state.key,
        sender: hexToBytes(state.doc.address),
        sequenceNumber: BigInt(me.sequence_number),
        currency,
        payee: recipient.address,
        amount,
        metadata: recipient.subaddress ? generalMetadata(recipient.subaddress) : new Uint8Array(0),
        chainId: state.chainId,
        expiration,
      });
      say('send-status', 'Sending…');
      await node.submit(signed.bytes);
      const txn = await waitFor(state.doc.address, Number(me.sequence_number), expiration);
      if (txn.hash !== signed.hash) throw new UserError('Another transaction from this account was committed instead.');
      if (txn.vm_status?.type !== 'executed') {
        const reason = txn.vm_status?.explanation?.reason;
        throw new UserError(`The payment failed: ${ABORT_WORDS[reason] ?? reason ?? txn.vm_status?.type}`);
      }
      const shown = recipient.kind === 'diem_id' ? `${recipient.user}@${recipient.domain}` : encodeIdentifier(recipient.address, recipient.subaddress, state.hrp);
      say('send-status', `Sent ${formatAmount(amount, currency)} to ${shown}.`);
      $('send-form').reset();
      say('send-hint');
      $('send-currency').value = currency;
      await refreshAccount();
    } catch (error) {
      say('send-status');
      say('send-error', words(error));
    }
  });
}

async function waitFor(address, seq, expiration) {
  const giveUp = Date.now() + Math.max(0, expiration * 1000 - Date.now()) + 30000;
  for (;;) {
    const txn = await node.getAccountTransaction(address, seq);
    if (txn) return txn;
    if (node.timestampUsecs >= expiration * 1e6) throw new UserError('The payment expired without being committed; nothing was paid.');
    if (Date.now() > giveUp) throw new UserError('The network stopped confirming payments. This one may still go through: check the history later.');
    await new Promise((r) => setTimeout(r, 150));
  }
}

// --- receive ---------------------------------------------------------------------------------

function onReceive(event) {
  event.preventDefault();
  say('receive-error');
  try {
    const typed = $('receive-amount').value.trim();
    const amount = typed ? parseAmount(typed) : null;
    const currency = $('receive-currency').value;
    const subaddress = crypto.getRandomValues(new Uint8Array(8));
    const identifier = encodeIdentifier(hexToBytes(state.doc.address), subaddress, state.hrp);
    const uri = encodeIntent(identifier, currency, amount);
    say('receive-uri', uri);
    const svg = renderSVG(uri, { ecc: 'M', border: 2 });
    $('receive-qr').src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
    $('receive-out').hidden = false;
  } catch (error) {
    $('receive-out').hidden = true;
    say('receive-error', words(error));
  }
}

// --- faucet ----------------------------------------------------------------------------------

async function onFund(event) {
  event.preventDefault();
  say('fund-error');
  say('fund-status');
  await busy($('fund-btn'), async () => {
    try {
      const amount = parseAmount($('fund-amount').value);
      const currency = $('fund-currency').value;
      const domain = $('fund-domain').value.trim();
      if (domain) parseDiemId(`user@${domain}`);
      say('fund-status', 'Asking the faucet…');
      await node.mint(bytesToHex(authKeyOf(hexToBytes(state.doc.public_key))), amount, currency, domain || null);
      say('fund-status', `Received ${formatAmount(amount, currency)} from the faucet.`);
      await refreshAccount();
      if (state.payments.size === 0) await loadHistory();
    } catch (error) {
      say('fund-status');
      say('fund-error', words(error));
    }
  });
}

// --- scanning --------------------------------------------------------------------------------

let scanning = null;

function decodeImage(source, width, height) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(source, 0, 0, width, height);
  const code = jsQR(context.getImageData(0, 0, width, height).data, width, height);
  return code?.data ?? null;
}

function scanned(text) {
  closeScanner();
  $('send-to').value = text;
  onToInput();
}

async function openScanner() {
  say('scan-error');
  $('scanner').hidden = false;
  if (!navigator.mediaDevices?.getUserMedia) {
    say('scan-error', 'This page cannot use the camera here (it needs https or localhost). Use a photo instead.');
    return;
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
    const video = $('scan-video');
    video.srcObject = stream;
    await video.play();
    scanning = { stream, timer: setInterval(() => {
      if (!video.videoWidth) return;
      const text = decodeImage(video, video.videoWidth, video.videoHeight);
      if (text) scanned(text);
    }, 250) };
  } catch {
    say('scan-error', 'The camera is not available. Allow camera access, or use a photo of the code.');
  }
}

function closeScanner() {
  if (scanning) {
    clearInterval(scanning.timer);
    for (const track of scanning.stream.getTracks()) track.stop();
    scanning = null;
  }
  $('scanner').hidden = true;
}

async function onScanFile() {
  const file = $('scan-file').files?.[0];
  $('scan-file').value = '';
  if (!file) return;
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
    const text = decodeImage(bitmap, Math.round(bitmap.width * scale), Math.round(bitmap.height * scale));
    if (!text) throw new UserError('No QR code found in this picture. Try again closer to the code.');
    scanned(text);
  } catch (error) {
    closeScanner();
    say('send-error', words(error));
  }
}

// --- wiring ----------------------------------------------------------------------------------

function copy(id, button) {
  navigator.clipboard?.writeText($(id).textContent).then(
    () => { button.textContent = 'Copied'; setTimeout(() => { button.textContent = 'Copy'; }, 1500); },
    () => {},
  );
}

function exportWallet() {
  const blob = new Blob([JSON.stringify(state.doc, null, 2) + '\n'], { type: 'application/json' });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = `${state.doc.name}.json`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 5000);
}

async function main() {
  $('create-form').addEventListener('submit', onCreate);
  $('import-form').addEventListener('submit', onImport);
  $('unlock-form').addEventListener('submit', onUnlock);
  $('send-form').addEventListener('submit', onSend);
  $('receive-form').addEventListener('submit', onReceive);
  $('fund-form').addEventListener('submit', onFund);
  $('send-to').addEventListener('input', onToInput);
  $('lock-btn').addEventListener('click', lock);
  $('export-btn').addEventListener('click', exportWallet);
  $('copy-id').addEventListener('click', (e) => copy('identifier', e.target));
  $('copy-uri').addEventListener('click', (e) => copy('receive-uri', e.target));
  $('show-setup').addEventListener('click', () => { $('show-unlock').hidden = false; show('view-setup'); });
  $('show-unlock').addEventListener('click', start);
  $('scan-btn').addEventListener('click', openScanner);
  $('scan-close').addEventListener('click', closeScanner);
  $('scan-photo').addEventListener('click', () => $('scan-file').click());
  $('scan-file').addEventListener('change', onScanFile);
  await connect();
  start();
  document.body.dataset.ready = 'true';
}

main();
