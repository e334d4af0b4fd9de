//! One `peer_to_peer_with_metadata` payment through the rules, as `framework/vm.py`
//! (`execute_user_transaction`: prologue, payload, epilogue) and `framework/payments.py`
//! (`apply_pay_from`) apply it, check for check and write for write.
//!
//! Whatever these rules do not port gives [`Decline`]: the transaction is then run by the
//! Python framework instead, from the same state. That covers the travel rule (an amount at
//! or above the limit between VASPs of different parents, or any metadata signature),
//! resources that do not decode, counters that would overflow, and anything not loaded.

use sha3::{Digest, Sha3_256};

use super::account::{Account, Address};
use super::resources::{
    decode_address, decode_bool, decode_transaction_fee, decode_u64, encode_transaction_fee,
    payment_event_data, plain_paths, read_bytes, CurrencyInfo, CurrencyPaths, DiemAccount,
    EventHandle, PathRef, ResourcePath, SmallBytes, CORE_CODE_ADDRESS, DIEM_ROOT_ADDRESS,
    TREASURY_COMPLIANCE_ADDRESS,
};
use super::status::{self, Status};
use crate::bcs::{push_uleb128, Reader};
use crate::hashing::sha3_256;
use crate::transaction::{
    decode_common, decode_common_script, is_valid_identifier, ScriptArg, TypeArg,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// The native side does not answer for this transaction: the Python framework runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decline;

pub type Result<T> = std::result::Result<T, Decline>;

// `framework/vm.py` and `framework/scripts.py`
pub const MAX_TRANSACTION_SIZE_IN_BYTES: usize = 4096;
pub const MAX_GAS_UNITS: u64 = 4_000_000;
pub const MIN_TRANSACTION_GAS_UNITS: u64 = 1;
pub const MAX_PRICE_PER_GAS_UNIT: u64 = 10_000;
pub const MICROS_PER_SECOND: u64 = 1_000_000;
/// `ScriptEntry.gas_units` of `peer_to_peer_with_metadata`.
pub const PAYMENT_GAS_UNITS: u64 = 12;
/// `sha3_256` of the `peer_to_peer_with_metadata` Move script (`SCRIPT_HASHES`).
pub const PAYMENT_SCRIPT_HASH: [u8; 32] = [
    0x04, 0xea, 0x43, 0x10, 0x7f, 0xaf, 0xc1, 0x2a, 0xdc, 0xd0, 0x9f, 0x6c, 0x68, 0xd6, 0x3e, 0x19,
    0x46, 0x75, 0xd0, 0xce, 0x84, 0x3a, 0x7f, 0xaf, 0x7c, 0xce, 0xb6, 0xc8, 0x13, 0xdb, 0x9d, 0x9a,
];
const PAYMENT_MODULE: &str = "PaymentScripts";
const PAYMENT_FUNCTION: &str = "peer_to_peer_with_metadata";

/// The arguments of a payment as its payload carries them.
#[derive(Debug)]
pub enum Args<'a> {
    /// A script function's: each the BCS of one Move value.
    Function(Vec<&'a [u8]>),
    /// A Move script's: typed `TransactionArgument`s.
    Script(Vec<ScriptArg<'a>>),
}

/// A signed payment transaction (either payload), borrowing its bytes.
#[derive(Debug)]
pub struct Payment<'a> {
    pub sender: Address,
    pub sequence_number: u64,
    pub max_gas_amount: u64,
    pub gas_unit_price: u64,
    pub gas_currency_code: &'a str,
    pub expiration_timestamp_secs: u64,
    pub chain_id: u8,
    pub public_key: [u8; 32],
    /// The signed transaction's BCS size.
    pub size: usize,
    pub ty_args: Vec<TypeArg<'a>>,
    pub args: Args<'a>,
}

impl<'a> Payment<'a> {
    /// The payment that `signed` (a whole `SignedTransaction`) is, if it is one of the
    /// common shapes calling `peer_to_peer_with_metadata`; `is_payment_script` tells whether a
    /// script's code is the payment script.
    pub fn parse(
        signed: &'a [u8],
        is_payment_script: impl FnOnce(&[u8]) -> bool,
    ) -> Option<Payment<'a>> {
        if let Some(txn) = decode_common(signed, 0) {
            let known = txn.module_address == CORE_CODE_ADDRESS
                && txn.module_name == PAYMENT_MODULE
                && txn.function == PAYMENT_FUNCTION;
            if !known || txn.end != signed.len() {
                return None;
            }
            return Some(Payment {
                sender: txn.sender,
                sequence_number: txn.sequence_number,
                max_gas_amount: txn.max_gas_amount,
                gas_unit_price: txn.gas_unit_price,
                gas_currency_code: txn.gas_currency_code,
                expiration_timestamp_secs: txn.expiration_timestamp_secs,
                chain_id: txn.chain_id,
                public_key: txn.public_key,
                size: signed.len(),
                ty_args: txn.ty_args,
                args: Args::Function(txn.args),
            });
        }
        let txn = decode_common_script(signed, 0)?;
        if txn.end != signed.len() || !is_payment_script(txn.code) {
            return None;
        }
        Some(Payment {
            sender: txn.sender,
            sequence_number: txn.sequence_number,
            max_gas_amount: txn.max_gas_amount,
            gas_unit_price: txn.gas_unit_price,
            gas_currency_code: txn.gas_currency_code,
            expiration_timestamp_secs: txn.expiration_timestamp_secs,
            chain_id: txn.chain_id,
            public_key: txn.public_key,
            size: signed.len(),
            ty_args: txn.ty_args,
            args: Args::Script(txn.args),
        })
    }

    /// The payee, if the arguments say which (the accounts to load before running).
    pub fn payee(&self) -> Option<Address> {
        match &self.args {
            Args::Function(args) => args.first().and_then(|arg| (*arg).try_into().ok()),
            Args::Script(args) => match args.first() {
                Some(ScriptArg::Address(address)) => Some(*address),
                _ => None,
            },
        }
    }

    /// The currency code of the only type argument if it is `0x1::C::C` (`currency_code_of`).
    fn currency(&self) -> std::result::Result<&'a str, Status> {
        if self.ty_args.len() != 1 {
            return Err(status::MISC_NUMBER_OF_TYPE_ARGUMENTS_MISMATCH);
        }
        match self.ty_args[0] {
            TypeArg::Struct {
                address,
                module,
                name,
            } if address == CORE_CODE_ADDRESS && module == name => Ok(name),
            _ => Err(status::MISC_TYPE_MISMATCH),
        }
    }

    /// The payment's arguments, or the `miscellaneous_error` status.
    fn arguments(&self) -> std::result::Result<PaymentArgs<'a>, Status> {
        match &self.args {
            Args::Function(args) => {
                if args.len() != 4 {
                    return Err(status::MISC_NUMBER_OF_ARGUMENTS_MISMATCH);
                }
                let failed = status::MISC_FAILED_TO_DESERIALIZE_ARGUMENT;
                let payee: [u8; 16] = args[0].try_into().map_err(|_| failed)?;
                let amount = u64::from_le_bytes(args[1].try_into().map_err(|_| failed)?);
                let metadata = bcs_bytes(args[2]).ok_or(failed)?;
                let signature = bcs_bytes(args[3]).ok_or(failed)?;
                Ok((payee, amount, metadata, signature))
            }
            Args::Script(args) => {
                if args.len() != 4 {
                    return Err(status::MISC_NUMBER_OF_ARGUMENTS_MISMATCH);
                }
                match (&args[0], &args[1], &args[2], &args[3]) {
                    (
                        ScriptArg::Address(payee),
                        ScriptArg::U64(amount),
                        ScriptArg::U8Vector(metadata),
                        ScriptArg::U8Vector(signature),
                    ) => Ok((*payee, *amount, metadata, signature)),
                    _ => Err(status::MISC_TYPE_MISMATCH),
                }
            }
        }
    }
}

/// (payee, amount, metadata, metadata signature).
type PaymentArgs<'a> = ([u8; 16], u64, &'a [u8], &'a [u8]);

/// `data` if it is exactly the BCS of one `vector<u8>` (strict, as the Python decoder).
fn bcs_bytes(data: &[u8]) -> Option<&[u8]> {
    let mut reader = Reader::new(data);
    let value = read_bytes(&mut reader)?;
    reader.finish().ok()?;
    Some(value)
}

// --- the block's accounts and one transaction's overlay ----------------------------------

/// An account as a block knows it.
#[derive(Clone, Debug)]
pub enum Slot {
    /// Its resources (shared with the cache until written).
    Present(Arc<Account>),
    /// No state at all.
    Absent,
    /// A blob that does not decode: only the Python framework touches it (and says why).
    Malformed,
}

/// The accounts of a block, by address.
#[derive(Default)]
pub struct Accounts {
    map: HashMap<Address, Slot>,
}

/// What payments read of Diem Root's account, decoded once (each `None` until first read);
/// valid while that account does not change.
#[derive(Default)]
pub struct RootMemo {
    current_time: Option<Result<Option<u64>>>,
    limit: Option<Result<Option<u64>>>,
    currency_infos: Vec<(PathRef, Result<Option<Arc<CurrencyInfo>>>)>,
}

impl Accounts {
    pub fn contains(&self, address: &Address) -> bool {
        self.map.contains_key(address)
    }

    pub fn slot(&self, address: &Address) -> Option<&Slot> {
        self.map.get(address)
    }

    /// Set an account's state.
    pub fn insert(&mut self, address: Address, slot: Slot) {
        self.map.insert(address, slot);
    }

    /// The account to write to (an empty one if it has no state), not shared with the cache.
    pub fn writable(&mut self, address: Address) -> &mut Account {
        let slot = self.map.entry(address).or_insert(Slot::Absent);
        if !matches!(slot, Slot::Present(_)) {
            *slot = Slot::Present(Arc::new(Account::default()));
        }
        match slot {
            Slot::Present(account) => Arc::make_mut(account),
            _ => unreachable!("just made present"),
        }
    }

    /// The account of `address`: `Decline` if it is not loaded or malformed, None without state.
    fn account(&self, address: &Address) -> Result<Option<&Account>> {
        match self.map.get(address) {
            Some(Slot::Present(account)) => Ok(Some(account)),
            Some(Slot::Absent) => Ok(None),
            Some(Slot::Malformed) | None => Err(Decline),
        }
    }

    /// The resource at `path` of `address`; `Decline` if the account is not loaded or malformed.
    pub fn get(&self, address: &Address, path: &ResourcePath) -> Result<Option<&[u8]>> {
        Ok(self
            .account(address)?
            .and_then(|account| account.get(&path.key)))
    }

    /// The `DiemAccount` of `address` (None without one); `Decline` if the account is not
    /// loaded, malformed, or its `DiemAccount` does not decode.
    pub fn diem_account(&self, address: &Address) -> Result<Option<DiemAccount>> {
        match self.get(address, &plain_paths().diem_account)? {
            None => Ok(None),
            Some(data) => DiemAccount::decode(data).map(Some).ok_or(Decline),
        }
    }
}

impl RootMemo {
    fn u64_resource(
        memo: &RefCell<RootMemo>,
        accounts: &Accounts,
        path: &ResourcePath,
        field: impl Fn(&mut RootMemo) -> &mut Option<Result<Option<u64>>>,
    ) -> Result<Option<u64>> {
        if let Some(known) = *field(&mut memo.borrow_mut()) {
            return known;
        }
        let value = match accounts.get(&DIEM_ROOT_ADDRESS, path) {
            Ok(Some(data)) => decode_u64(data).map(Some).ok_or(Decline),
            other => other.map(|_| None),
        };
        *field(&mut memo.borrow_mut()) = Some(value);
        value
    }

    fn currency_info(
        memo: &RefCell<RootMemo>,
        accounts: &Accounts,
        path: &PathRef,
    ) -> Result<Option<Arc<CurrencyInfo>>> {
        if let Some((_, known)) = memo
            .borrow()
            .currency_infos
            .iter()
            .find(|(known, _)| Arc::ptr_eq(known, path) || known.path == path.path)
        {
            return known.clone();
        }
        let value = match accounts.get(&DIEM_ROOT_ADDRESS, path) {
            Ok(Some(data)) => CurrencyInfo::decode(data)
                .map(|info| Some(Arc::new(info)))
                .ok_or(Decline),
            other => other.map(|_| None),
        };
        memo.borrow_mut()
            .currency_infos
            .push((path.clone(), value.clone()));
        value
    }
}

/// A write of one transaction: the resource's new BCS.
#[derive(Clone, Debug)]
pub struct Write {
    pub address: Address,
    pub path: PathRef,
    pub value: Vec<u8>,
}

/// An emitted event: its key, sequence number and `ContractEvent` BCS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub key: SmallBytes,
    pub sequence_number: u64,
    pub bytes: Vec<u8>,
}

const EVENT_KEY_LENGTH: usize = 24;

/// One transaction's writes and events over the block's accounts (`TxnState`).
struct TxnState<'a> {
    accounts: &'a Accounts,
    root: &'a RefCell<RootMemo>,
    memos: &'a Memos,
    writes: Vec<Write>,
    events: Vec<Event>,
    /// The accounts read so far (a transaction reads three or four, again and again).
    seen: RefCell<Vec<(Address, Option<&'a Account>)>>,
}

fn same_path(a: &PathRef, b: &ResourcePath) -> bool {
    std::ptr::eq(&**a, b) || a.path == b.path
}

impl<'a> TxnState<'a> {
    fn new(accounts: &'a Accounts, memos: &'a Memos) -> Self {
        TxnState {
            accounts,
            root: &memos.root,
            memos,
            writes: Vec::with_capacity(6),
            events: Vec::with_capacity(2),
            seen: RefCell::new(Vec::with_capacity(4)),
        }
    }

    fn written(&self, address: &Address, path: &ResourcePath) -> Option<&[u8]> {
        self.writes
            .iter()
            .find(|write| write.address == *address && same_path(&write.path, path))
            .map(|write| &write.value[..])
    }

    fn account(&self, address: &Address) -> Result<Option<&'a Account>> {
        if let Some((_, account)) = self.seen.borrow().iter().find(|(seen, _)| seen == address) {
            return Ok(*account);
        }
        let account = self.accounts.account(address)?;
        self.seen.borrow_mut().push((*address, account));
        Ok(account)
    }

    fn get(&self, address: &Address, path: &ResourcePath) -> Result<Option<&[u8]>> {
        if let Some(value) = self.written(address, path) {
            return Ok(Some(value));
        }
        Ok(self
            .account(address)?
            .and_then(|account| account.get(&path.key)))
    }

    fn put(&mut self, address: &Address, path: &PathRef, value: Vec<u8>) {
        for write in &mut self.writes {
            if write.address == *address && same_path(&write.path, path) {
                write.value = value;
                return;
            }
        }
        self.writes.push(Write {
            address: *address,
            path: path.clone(),
            value,
        });
    }

    /// Append an event on `handle`; the handle with its counter advanced.
    fn emit(&mut self, handle: &EventHandle, type_tag: &[u8], data: &[u8]) -> Result<EventHandle> {
        if handle.guid.len() != EVENT_KEY_LENGTH || handle.counter == u64::MAX {
            return Err(Decline); // Python refuses the key, or the counter's encoding, itself
        }
        let mut bytes = Vec::with_capacity(40 + type_tag.len() + data.len());
        bytes.push(0);
        push_uleb128(&mut bytes, handle.guid.len() as u64);
        bytes.extend_from_slice(&handle.guid);
        bytes.extend_from_slice(&handle.counter.to_le_bytes());
        bytes.extend_from_slice(type_tag);
        push_uleb128(&mut bytes, data.len() as u64);
        bytes.extend_from_slice(data);
        self.events.push(Event {
            key: handle.guid.clone(),
            sequence_number: handle.counter,
            bytes,
        });
        Ok(EventHandle {
            counter: handle.counter + 1,
            guid: handle.guid.clone(),
        })
    }

    fn diem_account(&self, address: &Address) -> Result<Option<DiemAccount>> {
        match self.get(address, &plain_paths().diem_account)? {
            None => Ok(None),
            Some(data) => DiemAccount::decode(data).map(Some).ok_or(Decline),
        }
    }

    fn u64_resource(&self, address: &Address, path: &ResourcePath) -> Result<Option<u64>> {
        match self.get(address, path)? {
            None => Ok(None),
            Some(data) => decode_u64(data).map(Some).ok_or(Decline),
        }
    }

    fn is_frozen(&self, address: &Address) -> Result<bool> {
        match self.get(address, &plain_paths().freezing_bit)? {
            None => Ok(false),
            Some(data) => decode_bool(data).ok_or(Decline),
        }
    }

    fn currency_info(&self, paths: &CurrencyPaths) -> Result<Option<Arc<CurrencyInfo>>> {
        match self.written(&DIEM_ROOT_ADDRESS, &paths.currency_info) {
            None => RootMemo::currency_info(self.root, self.accounts, &paths.currency_info),
            Some(data) => CurrencyInfo::decode(data)
                .map(|info| Some(Arc::new(info)))
                .ok_or(Decline),
        }
    }

    /// A u64 resource of Diem Root's (the clock, the travel-rule limit).
    fn root_u64(
        &self,
        path: &ResourcePath,
        memo: impl Fn(&mut RootMemo) -> &mut Option<Result<Option<u64>>>,
    ) -> Result<Option<u64>> {
        match self.written(&DIEM_ROOT_ADDRESS, path) {
            None => RootMemo::u64_resource(self.root, self.accounts, path, memo),
            Some(data) => decode_u64(data).map(Some).ok_or(Decline),
        }
    }

    fn transaction_fee(&self, paths: &CurrencyPaths) -> Result<Option<(u64, u64)>> {
        match self.get(&TREASURY_COMPLIANCE_ADDRESS, &paths.transaction_fee)? {
            None => Ok(None),
            Some(data) => decode_transaction_fee(data).map(Some).ok_or(Decline),
        }
    }

    /// `get_parent_vasp_address`: itself for a parent VASP, the parent of a child, else None.
    fn parent_vasp(&self, address: &Address) -> Result<Option<Address>> {
        let paths = plain_paths();
        if let Some(data) = self.get(address, &paths.parent_vasp)? {
            decode_u64(data).ok_or(Decline)?;
            return Ok(Some(*address));
        }
        match self.get(address, &paths.child_vasp)? {
            None => Ok(None),
            Some(data) => decode_address(data).map(Some).ok_or(Decline),
        }
    }
}

// --- the rules -----------------------------------------------------------------------------

/// What a payment did: a kept status with its writes and events, or a discard.
#[derive(Debug)]
pub struct Outcome {
    pub status: Status,
    pub gas_used: u64,
    pub writes: Vec<Write>,
    pub events: Vec<Event>,
}

impl Outcome {
    fn discarded(status: Status) -> Outcome {
        Outcome {
            status,
            gas_used: 0,
            writes: Vec::new(),
            events: Vec::new(),
        }
    }
}

/// The paths of the gas currency and of the payment's currency (None when the code cannot
/// name a currency, which the rules then report before any path is needed).
pub struct PaymentPaths {
    pub gas: Option<Arc<CurrencyPaths>>,
    pub paid: Option<Arc<CurrencyPaths>>,
}

/// The currency codes whose paths [`execute`] needs for `payment`.
pub fn currency_codes<'a>(payment: &Payment<'a>) -> (Option<&'a str>, Option<&'a str>) {
    let gas = is_valid_identifier(payment.gas_currency_code.as_bytes())
        .then_some(payment.gas_currency_code);
    (gas, payment.currency().ok())
}

/// What recognising payments remembers from one to the next: the paths of each currency
/// named, and the last script code found to be the payment script (scripts repeat it).
#[derive(Default)]
pub struct Shapes {
    currencies: HashMap<String, Arc<CurrencyPaths>>,
    payment_script: Option<Vec<u8>>,
}

impl Shapes {
    /// The payment `signed` is, if it is one of the common shapes ([`Payment::parse`]).
    pub fn parse<'a>(&mut self, signed: &'a [u8]) -> Option<Payment<'a>> {
        let known = &mut self.payment_script;
        Payment::parse(signed, |code| {
            if known.as_deref() == Some(code) {
                return true;
            }
            let found = is_payment_script(code);
            if found {
                *known = Some(code.to_vec());
            }
            found
        })
    }

    /// The paths [`execute`] and [`prologue`] need for `payment`.
    pub fn paths(&mut self, payment: &Payment<'_>) -> PaymentPaths {
        let (gas, paid) = currency_codes(payment);
        PaymentPaths {
            gas: gas.map(|code| self.currency_paths(code)),
            paid: paid.map(|code| self.currency_paths(code)),
        }
    }

    fn currency_paths(&mut self, code: &str) -> Arc<CurrencyPaths> {
        if let Some(paths) = self.currencies.get(code) {
            return paths.clone();
        }
        let paths = Arc::new(CurrencyPaths::new(code));
        self.currencies.insert(code.to_owned(), paths.clone());
        paths
    }
}

/// A Move abort's status (from the payload).
struct Abort(Status);

fn ensure(condition: bool, status: Status) -> std::result::Result<(), Abort> {
    if condition {
        Ok(())
    } else {
        Err(Abort(status))
    }
}

/// Either an abort or a decline, inside the payload.
enum Stop {
    Abort(Status),
    Decline,
}

impl From<Decline> for Stop {
    fn from(_: Decline) -> Stop {
        Stop::Decline
    }
}

impl From<Abort> for Stop {
    fn from(abort: Abort) -> Stop {
        Stop::Abort(abort.0)
    }
}

/// What a block remembers between payments: Diem Root's values (valid while that account
/// does not change) and the authentication key of each public key seen.
#[derive(Default)]
pub struct Memos {
    pub root: RefCell<RootMemo>,
    pub auth_keys: RefCell<HashMap<[u8; 32], [u8; 32]>>,
}

impl Memos {
    /// `sha3_256(public key ‖ 00)`: the authentication key of an Ed25519 key.
    fn authentication_key(&self, public_key: &[u8; 32]) -> [u8; 32] {
        if let Some(known) = self.auth_keys.borrow().get(public_key) {
            return *known;
        }
        let mut scheme = [0u8; 33];
        scheme[..32].copy_from_slice(public_key);
        let key = sha3_256(&scheme);
        self.auth_keys.borrow_mut().insert(*public_key, key);
        key
    }
}

/// Run `payment` on `accounts` (nothing is written to them: the outcome says what to write);
/// `memos.root` must have been decoded from Diem Root's account as it is now.
pub fn execute(
    accounts: &Accounts,
    memos: &Memos,
    payment: &Payment<'_>,
    chain_id: u8,
    paths: &PaymentPaths,
) -> Result<Outcome> {
    let state = TxnState::new(accounts, memos);
    let now = state
        .root_u64(&plain_paths().current_time, |memo| &mut memo.current_time)?
        .unwrap_or(0);
    let sender_account = match check_prologue(&state, payment, chain_id, now, paths)? {
        Ok(account) => account,
        Err(failure) => return Ok(Outcome::discarded(failure)),
    };
    let max_gas = payment.max_gas_amount;
    let (mut status, mut gas_used, mut state) = if PAYMENT_GAS_UNITS > max_gas {
        (status::OUT_OF_GAS, max_gas, TxnState::new(accounts, memos))
    } else {
        let mut payload = TxnState::new(accounts, memos);
        match run_payload(&mut payload, payment, paths, &sender_account) {
            Ok(()) => (status::EXECUTED, PAYMENT_GAS_UNITS, payload),
            Err(Stop::Decline) => return Err(Decline),
            Err(Stop::Abort(abort)) => (abort, PAYMENT_GAS_UNITS, TxnState::new(accounts, memos)),
        }
    };
    let gas = paths.gas.as_deref().ok_or(Decline)?;
    if !apply_epilogue(&mut state, payment, gas_used, gas, &sender_account)? {
        // the payload spent what the fee needed: keep the transaction, drop the payload, charge
        // the whole deposit (Diem's failed-epilogue cleanup)
        state = TxnState::new(accounts, memos);
        status = status::ABORT_PROLOGUE_ECANT_PAY_GAS_DEPOSIT;
        gas_used = max_gas;
        if !apply_epilogue(&mut state, payment, gas_used, gas, &sender_account)? {
            return Err(Decline);
        }
    }
    if status != status::EXECUTED {
        state.events.clear();
    }
    Ok(Outcome {
        status,
        gas_used,
        writes: state.writes,
        events: state.events,
    })
}

/// The prologue of `payment` against `accounts` as they are, with `now_usecs` as the time
/// (mempool admission: the committed state and the ledger's time; execution runs the same
/// checks on the block's state and its clock): the first failure, or the sender's account.
pub fn prologue(
    accounts: &Accounts,
    memos: &Memos,
    payment: &Payment<'_>,
    chain_id: u8,
    now_usecs: u64,
    paths: &PaymentPaths,
) -> Result<std::result::Result<DiemAccount, Status>> {
    check_prologue(
        &TxnState::new(accounts, memos),
        payment,
        chain_id,
        now_usecs,
        paths,
    )
}

/// `check_gas_bounds` then `check_sender` (`prologue_common`): the first failure, or the
/// sender's account as committed.
fn check_prologue(
    state: &TxnState<'_>,
    payment: &Payment<'_>,
    chain_id: u8,
    now_usecs: u64,
    paths: &PaymentPaths,
) -> Result<std::result::Result<DiemAccount, Status>> {
    if payment.size > MAX_TRANSACTION_SIZE_IN_BYTES {
        return Ok(Err(status::EXCEEDED_MAX_TRANSACTION_SIZE));
    }
    if payment.max_gas_amount > MAX_GAS_UNITS {
        return Ok(Err(status::MAX_GAS_UNITS_EXCEEDS_MAX_GAS_UNITS_BOUND));
    }
    if payment.max_gas_amount < MIN_TRANSACTION_GAS_UNITS {
        return Ok(Err(status::MAX_GAS_UNITS_BELOW_MIN_TRANSACTION_GAS_UNITS));
    }
    if payment.gas_unit_price > MAX_PRICE_PER_GAS_UNIT {
        return Ok(Err(status::GAS_UNIT_PRICE_ABOVE_MAX_BOUND));
    }
    let Some(gas) = paths.gas.as_deref() else {
        return Ok(Err(status::INVALID_GAS_SPECIFIER));
    };
    if state.currency_info(gas)?.is_none() {
        return Ok(Err(status::BAD_TRANSACTION_FEE_CURRENCY));
    }
    if payment.chain_id != chain_id {
        return Ok(Err(status::BAD_CHAIN_ID));
    }
    let sender = &payment.sender;
    let Some(account) = state.diem_account(sender)? else {
        return Ok(Err(status::SENDING_ACCOUNT_DOES_NOT_EXIST));
    };
    if state.is_frozen(sender)? {
        return Ok(Err(status::SENDING_ACCOUNT_FROZEN));
    }
    if state.memos.authentication_key(&payment.public_key)[..] != account.authentication_key[..] {
        return Ok(Err(status::INVALID_AUTH_KEY));
    }
    let max_fee = u128::from(payment.gas_unit_price) * u128::from(payment.max_gas_amount);
    if max_fee > u128::from(u64::MAX) {
        return Ok(Err(status::INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE));
    }
    if max_fee > 0 {
        if state.transaction_fee(gas)?.is_none() {
            return Ok(Err(status::BAD_TRANSACTION_FEE_CURRENCY));
        }
        match state.u64_resource(sender, &gas.balance)? {
            Some(coin) if u128::from(coin) >= max_fee => {}
            _ => return Ok(Err(status::INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE)),
        }
    }
    if now_usecs / MICROS_PER_SECOND >= payment.expiration_timestamp_secs {
        return Ok(Err(status::TRANSACTION_EXPIRED));
    }
    if payment.sequence_number == u64::MAX {
        return Ok(Err(status::SEQUENCE_NUMBER_TOO_BIG));
    }
    if payment.sequence_number < account.sequence_number {
        return Ok(Err(status::SEQUENCE_NUMBER_TOO_OLD));
    }
    if payment.sequence_number > account.sequence_number {
        return Ok(Err(status::SEQUENCE_NUMBER_TOO_NEW));
    }
    Ok(Ok(account))
}

/// `run_payload` of `peer_to_peer_with_metadata`: its arguments, then `apply_pay_from`.
fn run_payload(
    state: &mut TxnState<'_>,
    payment: &Payment<'_>,
    paths: &PaymentPaths,
    sender_account: &DiemAccount,
) -> std::result::Result<(), Stop> {
    payment.currency().map_err(Stop::Abort)?;
    let (payee, amount, metadata, metadata_signature) = payment.arguments().map_err(Stop::Abort)?;
    let paid = paths.paid.as_deref().ok_or(Decline)?;
    let payer = payment.sender;
    let plain = plain_paths();
    // check_withdraw_capability
    let account = sender_account.clone(); // as the prologue found it: nothing was written since
    ensure(
        account.withdraw_capability.is_some(),
        status::ABORT_EWITHDRAW_CAPABILITY_ALREADY_EXTRACTED,
    )?;
    // apply_withdraw
    let balance = state.u64_resource(&payer, &paid.balance)?;
    let Some(balance) = balance else {
        return Err(Stop::Abort(status::ABORT_EPAYER_DOESNT_HOLD_CURRENCY));
    };
    let info = state.currency_info(paid)?;
    let Some(info) = info else {
        return Err(Stop::Abort(status::ABORT_ECURRENCY_INFO));
    };
    let sent = state.emit(
        &account.sent_events,
        &plain.sent_payment_tag,
        &payment_event_data(amount, &info.currency_code, &payee, metadata),
    )?;
    state.put(
        &payer,
        &plain.diem_account,
        DiemAccount {
            sent_events: sent,
            ..account
        }
        .encode(),
    );
    ensure(!state.is_frozen(&payer)?, status::ABORT_EACCOUNT_FROZEN)?;
    ensure(balance >= amount, status::ABORT_EINSUFFICIENT_BALANCE)?;
    state.put(
        &payer,
        &paid.balance,
        (balance - amount).to_le_bytes().to_vec(),
    );
    // apply_deposit
    ensure(!state.is_frozen(&payee)?, status::ABORT_EACCOUNT_FROZEN)?;
    ensure(amount > 0, status::ABORT_ECOIN_DEPOSIT_IS_ZERO)?;
    // the payee's account as it is now (with the sent event if it is the payer): only
    // balances are written between here and its received event
    let Some(payee_account) = state.diem_account(&payee)? else {
        return Err(Stop::Abort(status::ABORT_EPAYEE_DOES_NOT_EXIST));
    };
    let Some(payee_balance) = state.u64_resource(&payee, &paid.balance)? else {
        return Err(Stop::Abort(status::ABORT_EPAYEE_CANT_ACCEPT_CURRENCY_TYPE));
    };
    if !metadata_signature.is_empty()
        || is_dual_attestation_required(state, &info, &payer, &payee, amount)?
    {
        return Err(Stop::Decline); // the travel rule: the Python framework checks the signature
    }
    ensure(
        u64::MAX - payee_balance >= amount,
        status::ABORT_ECOIN_LIMIT,
    )?;
    state.put(
        &payee,
        &paid.balance,
        (payee_balance + amount).to_le_bytes().to_vec(),
    );
    let info = state.currency_info(paid)?.ok_or(Decline)?;
    let received = state.emit(
        &payee_account.received_events,
        &plain.received_payment_tag,
        &payment_event_data(amount, &info.currency_code, &payer, metadata),
    )?;
    state.put(
        &payee,
        &plain.diem_account,
        DiemAccount {
            received_events: received,
            ..payee_account
        }
        .encode(),
    );
    Ok(())
}

/// `is_dual_attestation_required`; a product that overflows (a FixedPoint32 abort) declines.
fn is_dual_attestation_required(
    state: &TxnState<'_>,
    info: &CurrencyInfo,
    payer: &Address,
    payee: &Address,
    amount: u64,
) -> Result<bool> {
    let limit = state
        .root_u64(&plain_paths().dual_attestation_limit, |memo| {
            &mut memo.limit
        })?
        .ok_or(Decline)?;
    let product = (u128::from(amount) * u128::from(info.to_xdx_exchange_rate)) >> 32;
    if product > u128::from(u64::MAX) {
        return Err(Decline);
    }
    if product < u128::from(limit) || payer == payee {
        return Ok(false);
    }
    let payer_parent = state.parent_vasp(payer)?;
    let payee_parent = state.parent_vasp(payee)?;
    Ok(matches!((payer_parent, payee_parent), (Some(a), Some(b)) if a != b))
}

/// `apply_epilogue`: charge `price × gas_used` into the fee pool and bump the sequence
/// number; false if the fee cannot be paid. `committed` is the sender's account before the
/// transaction (what it is unless the transaction wrote it).
fn apply_epilogue(
    state: &mut TxnState<'_>,
    payment: &Payment<'_>,
    gas_used: u64,
    gas: &CurrencyPaths,
    committed: &DiemAccount,
) -> Result<bool> {
    let sender = payment.sender;
    let fee = u128::from(payment.gas_unit_price) * u128::from(gas_used);
    if fee > 0 {
        let fee = u64::try_from(fee).map_err(|_| Decline)?;
        match state.u64_resource(&sender, &gas.balance)? {
            Some(coin) if coin >= fee => {
                state.put(&sender, &gas.balance, (coin - fee).to_le_bytes().to_vec());
            }
            _ => return Ok(false),
        }
        let (balance, preburn) = state.transaction_fee(gas)?.ok_or(Decline)?;
        let balance = balance.checked_add(fee).ok_or(Decline)?;
        state.put(
            &TREASURY_COMPLIANCE_ADDRESS,
            &gas.transaction_fee,
            encode_transaction_fee(balance, preburn),
        );
    }
    let account = match state.written(&sender, &plain_paths().diem_account) {
        Some(data) => DiemAccount::decode(data).ok_or(Decline)?,
        None => committed.clone(),
    };
    let sequence_number = payment.sequence_number + 1;
    state.put(
        &sender,
        &plain_paths().diem_account,
        DiemAccount {
            sequence_number,
            ..account
        }
        .encode(),
    );
    Ok(true)
}

/// Whether `code` is the payment script (`sha3_256(code)` is its recorded hash).
pub fn is_payment_script(code: &[u8]) -> bool {
    let digest: [u8; 32] = Sha3_256::digest(code).into();
    digest == PAYMENT_SCRIPT_HASH
}
