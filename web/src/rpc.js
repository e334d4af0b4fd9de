// The node's JSON-RPC API, faucet and push stream, from the page's own origin.

import { UserError } from './diem.js';

export class RpcError extends Error {
  constructor(method, error) {
    super(`${method}: ${error.message}`);
    this.method = method;
    this.code = error.code;
    this.rpcMessage = String(error.message ?? '');
  }
}

export class Node {
  constructor(base = '') {
    this.url = `${base}/v1`;
    this.base = base;
    this.chainId = null;
    this.version = 0;
    this.timestampUsecs = 0;
  }

  async call(method, ...params) {
    let response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      });
    } catch {
      throw new UserError('Cannot reach the node. Check your connection and try again.');
    }
    let answer;
    try {
      answer = await response.json();
    } catch {
      throw new UserError(`The node sent an unreadable answer (HTTP ${response.status}).`);
    }
    if (typeof answer.diem_chain_id === 'number') this.chainId = answer.diem_chain_id;
    this.version = Math.max(this.version, Number(answer.diem_ledger_version ?? 0));
    this.timestampUsecs = Math.max(this.timestampUsecs, Number(answer.diem_ledger_timestampusec ?? 0));
    if (answer.error) throw new RpcError(method, answer.error);
    return answer.result;
  }

  getMetadata() {
    return this.call('get_metadata');
  }
  getCurrencies() {
    return this.call('get_currencies');
  }
  getAccount(addressHex) {
    return this.call('get_account', addressHex);
  }
  getAccountTransaction(addressHex, seq) {
    return this.call('get_account_transaction', addressHex, seq, true);
  }
  getEvents(key, start, limit = 100) {
    return this.call('get_events', key, start, limit);
  }
  async getAllEvents(key) {
    const events = [];
    for (;;) {
      const page = (await this.getEvents(key, events.length, 100)) ?? [];
      events.push(...page);
      if (page.length < 100) return events;
    }
  }
  submit(signedHex) {
    return this.call('submit', signedHex);
  }

  async diemIdDomains() {
    const tc = await this.getAccount('0000000000000000000000000b1e55ed');
    const key = tc?.role?.diem_id_domain_events_key;
    const domains = new Map();
    if (!key) return domains;
    for (const event of await this.getAllEvents(key)) {
      const data = event.data ?? {};
      if (data.type !== 'diemiddomain') continue;
      if (data.removed) domains.delete(data.domain);
      else domains.set(data.domain, data.address);
    }
    return domains;
  }

  async mint(authKeyHex, amount, currency, domain) {
    const query = new URLSearchParams({
      amount: amount.toString(),
      auth_key: authKeyHex,
      currency_code: currency,
      return_txns: 'true',
      is_designated_dealer: 'false',
      is_remove_domain: 'false',
    });
    if (domain) query.set('diem_id_domain', domain);
    let response;
    try {
      response = await fetch(`${this.base}/mint?${query}`, { method: 'POST' });
    } catch {
      throw new UserError('Cannot reach the faucet. Check your connection and try again.');
    }
    if (response.status === 404) throw new UserError('This network has no faucet.');
    if (!response.ok) {
      const text = (await response.text()).trim();
      throw new UserError(`The faucet refused: ${text || 'HTTP ' + response.status}.`);
    }
  }

  /** EventSource on /v1/stream for one account, from a ledger version on. */
  stream(addressHex, sinceVersion) {
    const query = new URLSearchParams({ address: addressHex, since_version: String(sinceVersion) });
    return new EventSource(`${this.base}/v1/stream?${query}`);
  }
}
