"""Every abort the framework can raise, by Move module (constant names and numbers as Diem's).

Code = category + (reason << 8); e.g. ``DiemAccount.EINSUFFICIENT_BALANCE`` is
LIMIT_EXCEEDED (8) + (5 << 8) = 1288.
"""

from __future__ import annotations

from libra.framework.errors import AbortReason
from libra.framework.errors import Category as C


def _r(module: str, name: str, reason: int, category: C, description: str = "") -> AbortReason:
    return AbortReason(module, name, reason, category, description)


class DiemAccountAborts:
    M = "DiemAccount"
    EACCOUNT = _r(M, "EACCOUNT", 0, C.NOT_PUBLISHED, "The `DiemAccount` resource is not in the required state")
    ECOIN_DEPOSIT_IS_ZERO = _r(M, "ECOIN_DEPOSIT_IS_ZERO", 2, C.INVALID_ARGUMENT, "Tried to deposit a coin whose value was zero")
    EROLE_CANT_STORE_BALANCE = _r(M, "EROLE_CANT_STORE_BALANCE", 4, C.INVALID_ARGUMENT, "The account's role cannot hold a balance")
    EINSUFFICIENT_BALANCE = _r(M, "EINSUFFICIENT_BALANCE", 5, C.LIMIT_EXCEEDED, "The account does not hold a large enough balance in the specified currency")
    EWITHDRAW_CAPABILITY_ALREADY_EXTRACTED = _r(M, "EWITHDRAW_CAPABILITY_ALREADY_EXTRACTED", 7, C.INVALID_STATE, "The withdrawal capability for this account has already been extracted")
    EMALFORMED_AUTHENTICATION_KEY = _r(M, "EMALFORMED_AUTHENTICATION_KEY", 8, C.INVALID_ARGUMENT, "The provided authentication had an invalid length")
    EKEY_ROTATION_CAPABILITY_ALREADY_EXTRACTED = _r(M, "EKEY_ROTATION_CAPABILITY_ALREADY_EXTRACTED", 9, C.INVALID_STATE, "The key rotation capability for this account has already been extracted")
    ECANNOT_CREATE_AT_VM_RESERVED = _r(M, "ECANNOT_CREATE_AT_VM_RESERVED", 10, C.INVALID_ARGUMENT, "An account cannot be created at the reserved VM address of 0x0")
    EADD_EXISTING_CURRENCY = _r(M, "EADD_EXISTING_CURRENCY", 15, C.ALREADY_PUBLISHED, "Attempted to add a balance in a currency that this account already has")
    EPAYEE_DOES_NOT_EXIST = _r(M, "EPAYEE_DOES_NOT_EXIST", 17, C.NOT_PUBLISHED, "Attempted to send funds to an account that does not exist")
    EPAYEE_CANT_ACCEPT_CURRENCY_TYPE = _r(M, "EPAYEE_CANT_ACCEPT_CURRENCY_TYPE", 18, C.INVALID_ARGUMENT, "Attempted to send funds in a currency that the receiving account does not hold")
    EPAYER_DOESNT_HOLD_CURRENCY = _r(M, "EPAYER_DOESNT_HOLD_CURRENCY", 19, C.NOT_PUBLISHED, "Tried to withdraw funds in a currency that the account does hold")
    ECANNOT_CREATE_AT_CORE_CODE = _r(M, "ECANNOT_CREATE_AT_CORE_CODE", 24, C.INVALID_ARGUMENT, "An account cannot be created at the reserved core code address of 0x1")


class RolesAborts:
    M = "Roles"
    EROLE_ID_PUBLISHED = _r(M, "EROLE_ID", 0, C.ALREADY_PUBLISHED, "A `RoleId` resource was in an unexpected state")
    EROLE_ID_MISSING = _r(M, "EROLE_ID", 0, C.NOT_PUBLISHED, "A `RoleId` resource was in an unexpected state")
    EDIEM_ROOT = _r(M, "EDIEM_ROOT", 1, C.REQUIRES_ROLE, "The signer didn't have the required Diem Root role")
    ETREASURY_COMPLIANCE = _r(M, "ETREASURY_COMPLIANCE", 2, C.REQUIRES_ROLE, "The signer didn't have the required Treasury & Compliance role")
    EPARENT_VASP = _r(M, "EPARENT_VASP", 3, C.REQUIRES_ROLE, "The signer didn't have the required Parent VASP role")
    EPARENT_VASP_OR_DESIGNATED_DEALER = _r(M, "EPARENT_VASP_OR_DESIGNATED_DEALER", 5, C.REQUIRES_ROLE, "The signer didn't have the required Parent VASP or Designated Dealer role")
    EDESIGNATED_DEALER = _r(M, "EDESIGNATED_DEALER", 6, C.REQUIRES_ROLE, "The signer didn't have the required Designated Dealer role")
    EVALIDATOR = _r(M, "EVALIDATOR", 7, C.REQUIRES_ROLE, "The signer didn't have the required Validator role")
    EVALIDATOR_OPERATOR = _r(M, "EVALIDATOR_OPERATOR", 8, C.REQUIRES_ROLE, "The signer didn't have the required Validator Operator role")


class CoreAddressesAborts:
    M = "CoreAddresses"
    EDIEM_ROOT = _r(M, "EDIEM_ROOT", 0, C.REQUIRES_ADDRESS, "The operation can only be performed by the account at 0xA550C18 (Diem Root)")
    ETREASURY_COMPLIANCE = _r(M, "ETREASURY_COMPLIANCE", 1, C.REQUIRES_ADDRESS, "The operation can only be performed by the account at 0xB1E55ED (Treasury & Compliance)")


class VASPAborts:
    M = "VASP"
    ETOO_MANY_CHILDREN = _r(M, "ETOO_MANY_CHILDREN", 1, C.LIMIT_EXCEEDED, "The parent VASP already has the maximum number of children")
    ENOT_A_PARENT_VASP = _r(M, "ENOT_A_PARENT_VASP", 3, C.INVALID_ARGUMENT, "The account must be a Parent VASP account")


class DiemAborts:
    M = "Diem"
    EBURN_CAPABILITY = _r(M, "EBURN_CAPABILITY", 0, C.REQUIRES_CAPABILITY, "A `BurnCapability` resource is in an unexpected state")
    ECURRENCY_INFO = _r(M, "ECURRENCY_INFO", 1, C.NOT_PUBLISHED, "A property expected of a `CurrencyInfo` published resource could not be found")
    ECURRENCY_INFO_LIMIT = _r(M, "ECURRENCY_INFO", 1, C.LIMIT_EXCEEDED, "The currency's total value would overflow")
    EPREBURN = _r(M, "EPREBURN", 2, C.INVALID_ARGUMENT, "A property expected of the coin provided to the preburn was not found")
    EPREBURN_LIMIT = _r(M, "EPREBURN", 2, C.LIMIT_EXCEEDED, "The preburn value would underflow")
    EPREBURN_EMPTY = _r(M, "EPREBURN_EMPTY", 4, C.INVALID_STATE, "A burn was attempted on `Preburn` resource that cannot be burned")
    EMINTING_NOT_ALLOWED = _r(M, "EMINTING_NOT_ALLOWED", 5, C.INVALID_STATE, "Minting is not allowed for the specified currency")
    ECOIN = _r(M, "ECOIN", 7, C.INVALID_ARGUMENT, "A property expected of the coin provided was not found")
    ECOIN_LIMIT = _r(M, "ECOIN", 7, C.LIMIT_EXCEEDED, "The coin value would overflow")
    EMINT_CAPABILITY = _r(M, "EMINT_CAPABILITY", 9, C.REQUIRES_CAPABILITY, "A `MintCapability` resource is in an unexpected state")
    EPREBURN_QUEUE_MISSING = _r(M, "EPREBURN_QUEUE", 11, C.NOT_PUBLISHED, "A property expected of the preburn queue was not found")
    EPREBURN_QUEUE_STATE = _r(M, "EPREBURN_QUEUE", 11, C.INVALID_STATE, "A property expected of the preburn queue was not found")
    EPREBURN_QUEUE_FULL = _r(M, "EPREBURN_QUEUE", 11, C.LIMIT_EXCEEDED, "The preburn queue is full")
    EPREBURN_NOT_FOUND = _r(M, "EPREBURN_NOT_FOUND", 12, C.INVALID_STATE, "A preburn with a matching amount in the preburn queue was not found")


class DesignatedDealerAborts:
    M = "DesignatedDealer"
    EDEALER = _r(M, "EDEALER", 0, C.NOT_PUBLISHED, "A `Dealer` resource is not published")
    EINVALID_MINT_AMOUNT = _r(M, "EINVALID_MINT_AMOUNT", 4, C.INVALID_ARGUMENT, "A zero mint amount was provided")


class DualAttestationAborts:
    M = "DualAttestation"
    ECREDENTIAL = _r(M, "ECREDENTIAL", 0, C.NOT_PUBLISHED, "A credential is not or already published")
    EINVALID_PUBLIC_KEY = _r(M, "EINVALID_PUBLIC_KEY", 2, C.INVALID_ARGUMENT, "Cannot parse this as an ed25519 public key")
    EMALFORMED_METADATA_SIGNATURE = _r(M, "EMALFORMED_METADATA_SIGNATURE", 3, C.INVALID_ARGUMENT, "Cannot parse this as an ed25519 signature (e.g., != 64 bytes)")
    EINVALID_METADATA_SIGNATURE = _r(M, "EINVALID_METADATA_SIGNATURE", 4, C.INVALID_ARGUMENT, "Signature does not match message and public key")
    EPAYEE_COMPLIANCE_KEY_NOT_SET = _r(M, "EPAYEE_COMPLIANCE_KEY_NOT_SET", 5, C.INVALID_STATE, "The recipient of a dual attestation payment needs to set a compliance public key")
    EPAYEE_BASE_URL_NOT_SET = _r(M, "EPAYEE_BASE_URL_NOT_SET", 6, C.INVALID_STATE, "The recipient of a dual attestation payment needs to set a base URL")


class AccountFreezingAborts:
    M = "AccountFreezing"
    EFREEZING_BIT = _r(M, "EFREEZING_BIT", 2, C.NOT_PUBLISHED, "The `FreezingBit` resource is in an invalid state")
    ECANNOT_FREEZE_DIEM_ROOT = _r(M, "ECANNOT_FREEZE_DIEM_ROOT", 3, C.INVALID_ARGUMENT, "An attempt to freeze the Diem Root account was attempted")
    ECANNOT_FREEZE_TC = _r(M, "ECANNOT_FREEZE_TC", 4, C.INVALID_ARGUMENT, "An attempt to freeze the Treasury & Compliance account was attempted")
    EACCOUNT_FROZEN = _r(M, "EACCOUNT_FROZEN", 5, C.INVALID_STATE, "The account is frozen")


class SlidingNonceAborts:
    M = "SlidingNonce"
    ESLIDING_NONCE = _r(M, "ESLIDING_NONCE", 0, C.NOT_PUBLISHED, "The `SlidingNonce` resource is in an invalid state")
    ENONCE_TOO_OLD = _r(M, "ENONCE_TOO_OLD", 1, C.INVALID_ARGUMENT, "The nonce aborted because it's too old (nonce smaller than `min_nonce`)")
    ENONCE_TOO_NEW = _r(M, "ENONCE_TOO_NEW", 2, C.INVALID_ARGUMENT, "The nonce is too large - this protects against nonce exhaustion")
    ENONCE_ALREADY_RECORDED = _r(M, "ENONCE_ALREADY_RECORDED", 3, C.INVALID_ARGUMENT, "The nonce was already recorded previously")


class DiemIdAborts:
    M = "DiemId"
    EDIEM_ID_DOMAIN = _r(M, "EDIEM_ID_DOMAIN", 0, C.ALREADY_PUBLISHED, "DiemIdDomains resource is not or already published")
    EDIEM_ID_DOMAIN_MANAGER = _r(M, "EDIEM_ID_DOMAIN_MANAGER", 1, C.NOT_PUBLISHED, "DiemIdDomainManager resource is not or already published")
    EDOMAIN_NOT_FOUND = _r(M, "EDOMAIN_NOT_FOUND", 2, C.INVALID_ARGUMENT, "DiemID domain was not found")
    EDOMAIN_ALREADY_EXISTS = _r(M, "EDOMAIN_ALREADY_EXISTS", 3, C.INVALID_ARGUMENT, "DiemID domain already exists")
    EDIEM_ID_DOMAINS_NOT_PUBLISHED = _r(M, "EDIEM_ID_DOMAINS_NOT_PUBLISHED", 4, C.NOT_PUBLISHED, "DiemIdDomains resource was not published for a VASP account")
    EINVALID_DIEM_ID_DOMAIN = _r(M, "EINVALID_DIEM_ID_DOMAIN", 5, C.INVALID_ARGUMENT, "Invalid domain for DiemIdDomain")


class DiemSystemAborts:
    M = "DiemSystem"
    EINVALID_PROSPECTIVE_VALIDATOR = _r(M, "EINVALID_PROSPECTIVE_VALIDATOR", 1, C.INVALID_ARGUMENT, "Tried to add a validator with an invalid state to the validator set")
    EALREADY_A_VALIDATOR = _r(M, "EALREADY_A_VALIDATOR", 2, C.INVALID_ARGUMENT, "Tried to add a validator to the validator set that was already in it")
    ENOT_AN_ACTIVE_VALIDATOR = _r(M, "ENOT_AN_ACTIVE_VALIDATOR", 3, C.INVALID_ARGUMENT, "An operation was attempted on an address not in the validator set")
    EINVALID_TRANSACTION_SENDER = _r(M, "EINVALID_TRANSACTION_SENDER", 4, C.INVALID_ARGUMENT, "The sender is not the operator for the specified validator")
    EMAX_VALIDATORS = _r(M, "EMAX_VALIDATORS", 7, C.LIMIT_EXCEEDED, "The validator set is full")


class ValidatorConfigAborts:
    M = "ValidatorConfig"
    EVALIDATOR_CONFIG = _r(M, "EVALIDATOR_CONFIG", 0, C.NOT_PUBLISHED, "The `ValidatorConfig` resource was not in the required state")
    EVALIDATOR_CONFIG_ARG = _r(M, "EVALIDATOR_CONFIG", 0, C.INVALID_ARGUMENT, "The `ValidatorConfig` resource has no config or operator")
    EINVALID_TRANSACTION_SENDER = _r(M, "EINVALID_TRANSACTION_SENDER", 1, C.INVALID_ARGUMENT, "The sender is not the operator for the specified validator")
    EINVALID_CONSENSUS_KEY = _r(M, "EINVALID_CONSENSUS_KEY", 2, C.INVALID_ARGUMENT, "The provided consensus public key is malformed")
    ENOT_A_VALIDATOR_OPERATOR = _r(M, "ENOT_A_VALIDATOR_OPERATOR", 3, C.INVALID_ARGUMENT, "Tried to set an account without the correct operator role as a Validator Operator")


class ValidatorOperatorConfigAborts:
    M = "ValidatorOperatorConfig"
    EVALIDATOR_OPERATOR_CONFIG = _r(M, "EVALIDATOR_OPERATOR_CONFIG", 0, C.NOT_PUBLISHED, "The `ValidatorOperatorConfig` was not in the required state")


class TransactionFeeAborts:
    M = "TransactionFee"
    ETRANSACTION_FEE = _r(M, "ETRANSACTION_FEE", 0, C.NOT_PUBLISHED, "A `TransactionFee` resource is not in the required state")
    ETRANSACTION_FEE_XDX = _r(M, "ETRANSACTION_FEE", 0, C.INVALID_STATE, "Fees in XDX cannot be burnt")


class FixedPoint32Aborts:
    M = "FixedPoint32"
    EDENOMINATOR = _r(M, "EDENOMINATOR", 0, C.INVALID_ARGUMENT, "The denominator provided was zero")
    ERATIO_OUT_OF_RANGE = _r(M, "ERATIO_OUT_OF_RANGE", 4, C.INVALID_ARGUMENT, "The computed ratio when converting to a `FixedPoint32` would be unrepresentable")
    ERATIO_TOO_LARGE = _r(M, "ERATIO_OUT_OF_RANGE", 4, C.LIMIT_EXCEEDED, "The computed ratio when converting to a `FixedPoint32` would be unrepresentable")
    EMULTIPLICATION = _r(M, "EMULTIPLICATION", 2, C.LIMIT_EXCEEDED, "The multiplied value would be too large to be held in a `u64`")


class DiemVersionAborts:
    M = "DiemVersion"
    EINVALID_MAJOR_VERSION_NUMBER = _r(M, "EINVALID_MAJOR_VERSION_NUMBER", 0, C.INVALID_ARGUMENT, "Tried to set an invalid major version for the VM")



class ReserveAborts:
    """Attested reserves (``reserve.py``): who may attest, and supply never above the reserve."""

    M = "Reserve"
    EATTESTER = _r(M, "EATTESTER", 0, C.REQUIRES_ROLE, "The signer is neither Treasury Compliance nor a Reserve Attester")
    ERESERVE_NOT_ATTESTED = _r(M, "ERESERVE_NOT_ATTESTED", 1, C.NOT_PUBLISHED, "No reserve has been attested for this currency")
    EMINT_EXCEEDS_RESERVE = _r(M, "EMINT_EXCEEDS_RESERVE", 2, C.LIMIT_EXCEEDED, "The mint would take the currency's supply above its attested reserve")
    ERESERVE_BELOW_SUPPLY = _r(M, "ERESERVE_BELOW_SUPPLY", 3, C.LIMIT_EXCEEDED, "The attested reserve is below the currency's supply; redeem or burn first")
    EMALFORMED_REPORT_HASH = _r(M, "EMALFORMED_REPORT_HASH", 4, C.INVALID_ARGUMENT, "The report hash must be the 32-byte SHA3-256 of the custodian's report")
    ESTALE_ATTESTATION = _r(M, "ESTALE_ATTESTATION", 5, C.INVALID_ARGUMENT, "The report is older than the one already attested")
    EATTESTATION_IN_FUTURE = _r(M, "EATTESTATION_IN_FUTURE", 6, C.INVALID_ARGUMENT, "The report's as-of time is after the chain's current time")
    ECURRENCY_NOT_BACKED = _r(M, "ECURRENCY_NOT_BACKED", 7, C.INVALID_ARGUMENT, "A synthetic currency has no reserve of its own")


class LawfulOrderAborts:
    """Seizure and burning of a frozen account's funds on a lawful order (``lawful_orders.py``)."""

    M = "LawfulOrder"
    EMALFORMED_ORDER_HASH = _r(M, "EMALFORMED_ORDER_HASH", 0, C.INVALID_ARGUMENT, "The order reference must be a 32-byte hash")
    ETARGET_NOT_FROZEN = _r(M, "ETARGET_NOT_FROZEN", 1, C.INVALID_STATE, "Only the funds of a frozen account can be seized")
    EZERO_AMOUNT = _r(M, "EZERO_AMOUNT", 2, C.INVALID_ARGUMENT, "The amount to seize must be positive")
    EDESTINATION_IS_TARGET = _r(M, "EDESTINATION_IS_TARGET", 3, C.INVALID_ARGUMENT, "Seized funds must go to another account")
