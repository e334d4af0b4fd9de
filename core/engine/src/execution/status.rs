//! The outcomes a native payment can have, numbered for the bindings (`framework/errors.py`,
//! `framework/aborts.py`, `framework/vm.py`).
//!
//! A status is an index into [`STATUSES`]; the Python side maps each index once to its own
//! status object (the abort reasons by module and name), and a differential test checks that
//! the codes here are the framework's.

/// What kind of outcome a status is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Executed,
    OutOfGas,
    /// A kept `miscellaneous_error` whose name is the Diem `StatusCode` that caused it.
    MiscellaneousError,
    /// A kept `move_abort` in `0x1::<module>` with `code`.
    MoveAbort,
    /// Not committed: the Diem `StatusCode` name.
    Discarded,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusInfo {
    pub kind: Kind,
    /// The status code name, or the abort reason's constant name.
    pub name: &'static str,
    pub module: &'static str,
    pub code: u64,
}

const fn executed() -> StatusInfo {
    StatusInfo {
        kind: Kind::Executed,
        name: "",
        module: "",
        code: 0,
    }
}

const fn simple(kind: Kind, name: &'static str) -> StatusInfo {
    StatusInfo {
        kind,
        name,
        module: "",
        code: 0,
    }
}

/// `category + (reason << 8)` (`AbortReason.code`).
const fn abort(module: &'static str, name: &'static str, reason: u64, category: u64) -> StatusInfo {
    StatusInfo {
        kind: Kind::MoveAbort,
        name,
        module,
        code: category + (reason << 8),
    }
}

const INVALID_STATE: u64 = 1;
const NOT_PUBLISHED: u64 = 5;
const INVALID_ARGUMENT: u64 = 7;
const LIMIT_EXCEEDED: u64 = 8;

pub type Status = u16;

macro_rules! statuses {
    ($($id:ident = $info:expr,)*) => {
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u16)]
        enum Index { $($id,)* }
        $(pub const $id: Status = Index::$id as Status;)*
        /// Every status, by index.
        pub const STATUSES: &[StatusInfo] = &[$($info,)*];
    };
}

statuses! {
    EXECUTED = executed(),
    OUT_OF_GAS = simple(Kind::OutOfGas, ""),
    MISC_NUMBER_OF_TYPE_ARGUMENTS_MISMATCH = simple(Kind::MiscellaneousError, "NUMBER_OF_TYPE_ARGUMENTS_MISMATCH"),
    MISC_TYPE_MISMATCH = simple(Kind::MiscellaneousError, "TYPE_MISMATCH"),
    MISC_NUMBER_OF_ARGUMENTS_MISMATCH = simple(Kind::MiscellaneousError, "NUMBER_OF_ARGUMENTS_MISMATCH"),
    MISC_FAILED_TO_DESERIALIZE_ARGUMENT = simple(Kind::MiscellaneousError, "FAILED_TO_DESERIALIZE_ARGUMENT"),
    ABORT_EWITHDRAW_CAPABILITY_ALREADY_EXTRACTED = abort("DiemAccount", "EWITHDRAW_CAPABILITY_ALREADY_EXTRACTED", 7, INVALID_STATE),
    ABORT_EPAYER_DOESNT_HOLD_CURRENCY = abort("DiemAccount", "EPAYER_DOESNT_HOLD_CURRENCY", 19, NOT_PUBLISHED),
    ABORT_ECURRENCY_INFO = abort("Diem", "ECURRENCY_INFO", 1, NOT_PUBLISHED),
    ABORT_EACCOUNT_FROZEN = abort("AccountFreezing", "EACCOUNT_FROZEN", 5, INVALID_STATE),
    ABORT_EINSUFFICIENT_BALANCE = abort("DiemAccount", "EINSUFFICIENT_BALANCE", 5, LIMIT_EXCEEDED),
    ABORT_ECOIN_DEPOSIT_IS_ZERO = abort("DiemAccount", "ECOIN_DEPOSIT_IS_ZERO", 2, INVALID_ARGUMENT),
    ABORT_EPAYEE_DOES_NOT_EXIST = abort("DiemAccount", "EPAYEE_DOES_NOT_EXIST", 17, NOT_PUBLISHED),
    ABORT_EPAYEE_CANT_ACCEPT_CURRENCY_TYPE = abort("DiemAccount", "EPAYEE_CANT_ACCEPT_CURRENCY_TYPE", 18, INVALID_ARGUMENT),
    ABORT_ECOIN_LIMIT = abort("Diem", "ECOIN_LIMIT", 7, LIMIT_EXCEEDED),
    ABORT_PROLOGUE_ECANT_PAY_GAS_DEPOSIT = abort("DiemAccount", "PROLOGUE_ECANT_PAY_GAS_DEPOSIT", 1005, LIMIT_EXCEEDED),
    INVALID_SIGNATURE = simple(Kind::Discarded, "INVALID_SIGNATURE"),
    EXCEEDED_MAX_TRANSACTION_SIZE = simple(Kind::Discarded, "EXCEEDED_MAX_TRANSACTION_SIZE"),
    MAX_GAS_UNITS_EXCEEDS_MAX_GAS_UNITS_BOUND = simple(Kind::Discarded, "MAX_GAS_UNITS_EXCEEDS_MAX_GAS_UNITS_BOUND"),
    MAX_GAS_UNITS_BELOW_MIN_TRANSACTION_GAS_UNITS = simple(Kind::Discarded, "MAX_GAS_UNITS_BELOW_MIN_TRANSACTION_GAS_UNITS"),
    GAS_UNIT_PRICE_ABOVE_MAX_BOUND = simple(Kind::Discarded, "GAS_UNIT_PRICE_ABOVE_MAX_BOUND"),
    INVALID_GAS_SPECIFIER = simple(Kind::Discarded, "INVALID_GAS_SPECIFIER"),
    BAD_TRANSACTION_FEE_CURRENCY = simple(Kind::Discarded, "BAD_TRANSACTION_FEE_CURRENCY"),
    BAD_CHAIN_ID = simple(Kind::Discarded, "BAD_CHAIN_ID"),
    SENDING_ACCOUNT_DOES_NOT_EXIST = simple(Kind::Discarded, "SENDING_ACCOUNT_DOES_NOT_EXIST"),
    SENDING_ACCOUNT_FROZEN = simple(Kind::Discarded, "SENDING_ACCOUNT_FROZEN"),
    INVALID_AUTH_KEY = simple(Kind::Discarded, "INVALID_AUTH_KEY"),
    INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE = simple(Kind::Discarded, "INSUFFICIENT_BALANCE_FOR_TRANSACTION_FEE"),
    TRANSACTION_EXPIRED = simple(Kind::Discarded, "TRANSACTION_EXPIRED"),
    SEQUENCE_NUMBER_TOO_BIG = simple(Kind::Discarded, "SEQUENCE_NUMBER_TOO_BIG"),
    SEQUENCE_NUMBER_TOO_OLD = simple(Kind::Discarded, "SEQUENCE_NUMBER_TOO_OLD"),
    SEQUENCE_NUMBER_TOO_NEW = simple(Kind::Discarded, "SEQUENCE_NUMBER_TOO_NEW"),
}

pub fn info(status: Status) -> &'static StatusInfo {
    &STATUSES[status as usize]
}

pub fn is_discarded(status: Status) -> bool {
    info(status).kind == Kind::Discarded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_category_plus_reason() {
        assert_eq!(info(ABORT_EINSUFFICIENT_BALANCE).code, 1288);
        assert_eq!(info(ABORT_EACCOUNT_FROZEN).code, 1281);
        assert_eq!(info(ABORT_EPAYEE_DOES_NOT_EXIST).code, 4357);
        assert_eq!(info(EXECUTED).kind, Kind::Executed);
        assert!(is_discarded(SEQUENCE_NUMBER_TOO_NEW));
        assert_eq!(STATUSES.len(), SEQUENCE_NUMBER_TOO_NEW as usize + 1);
    }
}
