"""The DiemBFT v4 core: messages and timer events in, actions out.

No sockets, clocks, threads or disks here: the driver passes the local time
(``now_usecs``) into every handler and performs the returned actions
(:mod:`libra.consensus.actions`). Execution, the mempool and ConsensusDB are reached
through the Protocols of :mod:`libra.consensus.interfaces`; signing only through
:class:`~libra.consensus.safety_rules.SafetyRules`.

Flow of a round ``r`` (2-chain):

1. The node enters ``r`` on a QC or TC for ``r - 1`` and arms the round's timer.
2. The leader of ``r`` proposes a block on its highest QC (with the TC if the QC is
   older than ``r - 1``) and broadcasts it with its SyncInfo.
3. A validator that receives it catches up from the SyncInfo, executes the block,
   asks safety rules for a vote and sends the vote to the leader of ``r + 1``.
4. That leader aggregates 2f+1 votes into a QC, enters ``r + 1`` and proposes.
5. A QC whose ledger info commits a block (2-chain rule) commits it and its
   uncommitted ancestors; an epoch-ending block ends the epoch (``EpochChange``).
6. On the local timer a validator broadcasts a signed timeout with its highest QC;
   2f+1 timeouts form a TC that moves everyone to ``r + 1``. Seeing f+1 timeouts of
   its round makes a validator time out too (so one slow timer cannot stall a round).

Every handler verifies the message before touching any state; an invalid message
yields a :class:`~libra.consensus.actions.SecurityEvent` and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

from libra.consensus.actions import (
    Action,
    Broadcast,
    Commit,
    DeferProposal,
    EpochChange,
    Message,
    SecurityEvent,
    Send,
    SetTimer,
)
from libra.consensus.block_sync import BlockSync
from libra.consensus.block_tree import BlockTree, ExecutedBlock
from libra.consensus.errors import SafetyError, VerificationError
from libra.consensus.interfaces import ConsensusStore, PayloadSource, StateComputer
from libra.consensus.leader_election import LeaderElection, RoundRobin, commit_record
from libra.consensus.pacemaker import ConsensusConfig, RoundState, compute_timeout_ms
from libra.consensus.recovery import build_tree, execute_block
from libra.consensus.safety_rules import SafetyRules
from libra.consensus.verification import (
    MAX_TIMESTAMP_DRIFT_USECS,
    CertificateChecker,
    SignatureCache,
    compute_block_id,
    is_empty_commit,
    ledger_info_message,
)
from libra.types.consensus import (
    BLOCK_PROPOSAL,
    Block,
    BlockData,
    BlockRetrievalRequest,
    BlockRetrievalResponse,
    EpochChangeProof,
    EpochRetrievalRequest,
    ProposalMsg,
    QuorumCert,
    SyncInfo,
    TimeoutMsg,
    TwoChainTimeout,
    TwoChainTimeoutCertificate,
    VoteMsg,
)
from libra.types.ledger import EpochState, LedgerInfoWithSignatures
from libra.types.move import AccountAddress

Retry = Callable[[int], list[Action]]


class RoundManager:
    """One validator's consensus core for one epoch."""

    def __init__(
        self,
        *,
        author: AccountAddress,
        epoch_state: EpochState,
        tree: BlockTree,
        safety_rules: SafetyRules,
        state_computer: StateComputer,
        payload_source: PayloadSource,
        store: ConsensusStore,
        leader_election: LeaderElection | None = None,
        config: ConsensusConfig | None = None,
        epoch_start: LedgerInfoWithSignatures | None = None,
        signature_cache: SignatureCache | None = None,
    ) -> None:
        self.author = author
        self.epoch_state = epoch_state
        self.epoch = epoch_state.epoch
        self.tree = tree
        self.safety_rules = safety_rules
        self.state_computer = state_computer
        self.payload_source = payload_source
        self.store = store
        self.config = config or ConsensusConfig()
        validators = [address for address, _ in epoch_state.verifier.validators]
        self.leader_election = leader_election or RoundRobin(validators)
        self.checker = CertificateChecker(self.epoch, epoch_state.verifier, signature_cache)
        self.round_state = RoundState(self.checker)
        self.sync = BlockSync(self)
        self.epoch_start = epoch_start
        self.ended: LedgerInfoWithSignatures | None = None
        self._orphan_qcs: dict[bytes, QuorumCert] = {}
        self.can_sign = True
        try:
            safety_rules.initialize(epoch_state)
        except SafetyError:
            self.can_sign = False  # follow consensus without signing (not in the validator set)

    @classmethod
    def recover(
        cls,
        *,
        author: AccountAddress,
        ledger_root: LedgerInfoWithSignatures,
        store: ConsensusStore,
        safety_rules: SafetyRules,
        state_computer: StateComputer,
        payload_source: PayloadSource,
        epoch_state: EpochState | None = None,
        leader_election: LeaderElection | None = None,
        config: ConsensusConfig | None = None,
        signature_cache: SignatureCache | None = None,
    ) -> RoundManager:
        """Rebuild the core after a (re)start; see :mod:`libra.consensus.recovery`.

        ``ledger_root`` is the ledger's latest ledger info. If it ends an epoch the new
        epoch's state comes from it; otherwise pass the current ``epoch_state``.
        """
        next_epoch = ledger_root.ledger_info.next_epoch_state
        state = next_epoch if next_epoch is not None else epoch_state
        if state is None:
            raise ValueError("epoch_state is required unless the ledger root ends an epoch")
        tree = build_tree(ledger_root, store, state_computer)
        return cls(
            author=author,
            epoch_state=state,
            tree=tree,
            safety_rules=safety_rules,
            state_computer=state_computer,
            payload_source=payload_source,
            store=store,
            leader_election=leader_election,
            config=config,
            epoch_start=ledger_root if next_epoch is not None else None,
            signature_cache=signature_cache,
        )

    # ----------------------------------------------------------------------- reads

    @property
    def current_round(self) -> int:
        return self.round_state.current_round

    def sync_info(self) -> SyncInfo:
        return self.tree.sync_info()

    def leader(self, round_: int) -> AccountAddress:
        return self.leader_election.get_leader(round_)

    # ----------------------------------------------------------------------- entry points

    def start(self, now_usecs: int) -> list[Action]:
        """Enter the round after the highest certificate (call once after construction)."""
        return self.process_certificates(now_usecs)

    def on_message(self, peer: AccountAddress, message: Message, now_usecs: int) -> list[Action]:
        """Route a network message to its handler, answering epoch mismatches first."""
        if self.ended is not None and not isinstance(message, BlockRetrievalRequest):
            return []
        epoch = _message_epoch(message)
        if epoch is not None and epoch != self.epoch:
            return self._on_other_epoch(peer, epoch)
        if isinstance(message, ProposalMsg):
            return self.on_proposal(peer, message, now_usecs)
        if isinstance(message, VoteMsg):
            return self.on_vote(peer, message, now_usecs)
        if isinstance(message, TimeoutMsg):
            return self.on_timeout_msg(peer, message, now_usecs)
        if isinstance(message, SyncInfo):
            return self.on_sync_info(peer, message, now_usecs)
        if isinstance(message, BlockRetrievalRequest):
            return self.on_block_retrieval_request(peer, message)
        if isinstance(message, EpochRetrievalRequest):
            return self.on_epoch_retrieval_request(peer, message)
        if isinstance(message, EpochChangeProof):
            return self.on_epoch_change_proof(peer, message, now_usecs)
        return []

    def on_proposal(self, peer: AccountAddress, msg: ProposalMsg, now_usecs: int) -> list[Action]:
        """Verify, catch up, check the leader and the time, execute and vote."""
        return self._guard(peer, lambda: self._on_proposal(peer, msg, now_usecs))

    def on_vote(self, peer: AccountAddress, msg: VoteMsg, now_usecs: int) -> list[Action]:
        """Verify, catch up and aggregate; a new QC advances the round."""
        return self._guard(peer, lambda: self._on_vote(peer, msg, now_usecs))

    def on_timeout_msg(self, peer: AccountAddress, msg: TimeoutMsg, now_usecs: int) -> list[Action]:
        """Verify, catch up and aggregate; a new TC advances the round."""
        return self._guard(peer, lambda: self._on_timeout_msg(peer, msg, now_usecs))

    def on_sync_info(self, peer: AccountAddress, sync_info: SyncInfo, now_usecs: int) -> list[Action]:
        """Catch up from a peer's certificates."""
        return self._guard(peer, lambda: self.sync.sync_up(peer, sync_info, now_usecs, None)[1])

    def on_local_timeout(self, round_: int, now_usecs: int) -> list[Action]:
        """The timer of ``round_`` fired: time the round out (or re-send the timeout)."""
        if self.ended is not None or round_ != self.current_round:
            return []
        return self._local_timeout(now_usecs)

    def on_block_retrieval_request(
        self, peer: AccountAddress, request: BlockRetrievalRequest
    ) -> list[Action]:
        """Serve up to ``num_blocks`` blocks walking back from ``block_id``."""
        return [Send(peer, self.sync.serve(request))]

    def on_block_retrieval_response(
        self,
        peer: AccountAddress,
        request: BlockRetrievalRequest,
        response: BlockRetrievalResponse,
        now_usecs: int,
    ) -> list[Action]:
        """Insert fetched blocks (or fast-forward), then retry what waited for them."""
        if self.ended is not None:
            return []
        return self._guard(peer, lambda: self.sync.on_response(peer, request, response, now_usecs))

    def on_epoch_retrieval_request(
        self, peer: AccountAddress, request: EpochRetrievalRequest
    ) -> list[Action]:
        """Answer with the ledger info that ended the previous epoch, if that is what is asked."""
        start = self.epoch_start
        if start is None or request.start_epoch != start.ledger_info.epoch:
            return []
        return [Send(peer, EpochChangeProof((start,)))]

    def on_epoch_change_proof(
        self, peer: AccountAddress, proof: EpochChangeProof, now_usecs: int
    ) -> list[Action]:
        """A verified ledger info ending this epoch: sync to it and end the epoch."""
        return self._guard(peer, lambda: self._on_epoch_change_proof(proof))

    # ----------------------------------------------------------------------- handlers

    def _guard(self, peer: AccountAddress, handler: Callable[[], list[Action]]) -> list[Action]:
        if self.ended is not None:
            return []
        try:
            return handler()
        except VerificationError as exc:
            return [SecurityEvent("ConsensusInvalidMessage", peer, str(exc))]

    def _on_other_epoch(self, peer: AccountAddress, epoch: int) -> list[Action]:
        if epoch > self.epoch:
            return [Send(peer, EpochRetrievalRequest(self.epoch, epoch))]
        if self.epoch_start is not None and epoch == self.epoch_start.ledger_info.epoch:
            return [Send(peer, EpochChangeProof((self.epoch_start,)))]
        return []

    def _ensure_round(
        self, peer: AccountAddress, round_: int, sync_info: SyncInfo, now_usecs: int, retry: Retry
    ) -> tuple[bool, list[Action]]:
        """Drop stale messages, catch up from ``sync_info``; True if ``round_`` is current."""
        if round_ < self.current_round:
            return False, self._help_lagging(peer, sync_info)
        in_sync, actions = self.sync.sync_up(peer, sync_info, now_usecs, retry)
        return in_sync and round_ == self.current_round, actions

    def _help_lagging(self, peer: AccountAddress, sync_info: SyncInfo) -> list[Action]:
        """A peer sent a message of an older round: send it our certificates (Diem does too)."""
        if peer == self.author or sync_info.highest_round >= self.tree.highest_certified_round:
            return []
        return [Send(peer, self.sync_info())]

    def _on_proposal(self, peer: AccountAddress, msg: ProposalMsg, now_usecs: int) -> list[Action]:
        block = msg.proposal
        if block.author != peer:
            raise VerificationError("proposal author is not the sender")
        self.checker.verify_proposal_msg(msg)
        ok, actions = self._ensure_round(
            peer, block.round, msg.sync_info, now_usecs, lambda now: self.on_proposal(peer, msg, now)
        )
        if not ok:
            return actions
        if block.author != self.leader(block.round):
            return [
                *actions,
                SecurityEvent(
                    "InvalidConsensusProposal",
                    peer,
                    f"proposer is not the round leader (round {block.round}: {self.leader(block.round)})",
                ),
            ]
        if block.timestamp_usecs > now_usecs + MAX_TIMESTAMP_DRIFT_USECS:
            return [
                *actions,
                SecurityEvent("InvalidConsensusProposal", peer, "timestamp too far in the future"),
            ]
        if block.timestamp_usecs > now_usecs:
            return [*actions, DeferProposal(peer, msg, block.timestamp_usecs)]
        return actions + self._execute_and_vote(block, now_usecs, msg.sync_info.highest_timeout_cert)

    def _execute_and_vote(
        self, block: Block, now_usecs: int, proposal_tc: TwoChainTimeoutCertificate | None = None
    ) -> list[Action]:
        """Insert the block (executing it) and send safety rules' vote to the next leader.

        The TC that justifies a proposal after a timeout is the one the proposer sent
        (another TC of the same round may carry a higher QC), else our highest TC."""
        executed = self.insert_block(block)
        actions = self.adopt_orphan_qc(executed.id, now_usecs)
        # Only a re-delivery of the block already voted for is skipped here; any other block
        # of the round goes to safety rules, which alone decide (they return the earlier vote).
        if (
            self.round_state.voted_block == executed.id
            or not self.can_sign
            or block.round != self.current_round
        ):
            return actions
        tc = next(
            (t for t in (proposal_tc, self.tree.highest_tc) if t is not None and t.round + 1 == block.round),
            None,
        )
        try:
            vote = self.safety_rules.construct_and_sign_vote(block, executed.info, tc)
        except SafetyError:
            return actions
        self.round_state.voted_block = executed.id
        msg = VoteMsg(vote, self.sync_info())
        next_leader = self.leader(block.round + 1)
        if next_leader == self.author:
            return actions + self.on_vote(self.author, msg, now_usecs)
        return [*actions, Send(next_leader, msg)]

    def _on_vote(self, peer: AccountAddress, msg: VoteMsg, now_usecs: int) -> list[Action]:
        vote = msg.vote
        if vote.author != peer:
            raise VerificationError("vote author is not the sender")
        if vote.round < self.current_round:
            return self._help_lagging(peer, msg.sync_info)
        self.checker.verify_vote_msg(msg)
        ok, actions = self._ensure_round(
            peer, vote.round, msg.sync_info, now_usecs, lambda now: self.on_vote(peer, msg, now)
        )
        if not ok or self.leader(vote.round + 1) != self.author:
            return actions
        outcome = self.round_state.pending.insert_vote(vote)
        if outcome.equivocation:
            return [*actions, SecurityEvent("ConsensusEquivocatingVote", peer, f"round {vote.round}")]
        if outcome.qc is None:
            return actions
        return actions + self.add_qc(peer, outcome.qc, now_usecs)

    def _on_timeout_msg(self, peer: AccountAddress, msg: TimeoutMsg, now_usecs: int) -> list[Action]:
        timeout = msg.timeout
        if msg.author != peer:
            raise VerificationError("timeout author is not the sender")
        if timeout.round < self.current_round:
            return self._help_lagging(peer, msg.sync_info)
        self.checker.verify_timeout_msg(msg)
        ok, actions = self._ensure_round(
            peer, timeout.round, msg.sync_info, now_usecs, lambda now: self.on_timeout_msg(peer, msg, now)
        )
        if not ok:
            return actions
        tc = self.round_state.pending.insert_timeout(msg.author, timeout, msg.signature)
        if tc is not None:
            return actions + self.add_tc(tc, now_usecs)
        f_plus_one = (
            self.epoch_state.verifier.total_voting_power - self.epoch_state.verifier.quorum_voting_power + 1
        )
        if self.round_state.timeout_msg is None and self.round_state.pending.timeout_power() >= f_plus_one:
            actions += self._local_timeout(now_usecs)
        return actions

    def _local_timeout(self, now_usecs: int) -> list[Action]:
        round_ = self.current_round
        timer = SetTimer(round_, self._timeout_ms(round_))
        if self.round_state.timeout_msg is not None:
            return [Broadcast(self.round_state.timeout_msg), timer]
        if not self.can_sign:
            return [Broadcast(self.sync_info()), timer]
        timeout = TwoChainTimeout(self.epoch, round_, self.tree.highest_qc)
        try:
            signature = self.safety_rules.sign_timeout(timeout, self.tree.highest_tc)
        except SafetyError:
            return [Broadcast(self.sync_info()), timer]
        msg = TimeoutMsg(timeout, self.author, signature, self.sync_info())
        self.round_state.timeout_msg = msg
        actions: list[Action] = [Broadcast(msg), timer]
        tc = self.round_state.pending.insert_timeout(self.author, timeout, signature)
        if tc is not None:
            actions += self.add_tc(tc, now_usecs)
        return actions

    def _on_epoch_change_proof(self, proof: EpochChangeProof) -> list[Action]:
        if not proof.ledger_infos:
            raise VerificationError("empty epoch change proof")
        ledger = proof.ledger_infos[0]
        info = ledger.ledger_info
        if info.epoch != self.epoch or not info.ends_epoch:
            raise VerificationError("epoch change proof does not end this epoch")
        self.checker.check_voting_power(author for author, _ in ledger.signatures)
        for author, signature in ledger.signatures:
            self.checker.check_signature(author, ledger_info_message(info), signature)
        self.state_computer.sync_to(ledger)
        self.ended = ledger
        return [EpochChange(ledger)]

    # ----------------------------------------------------------------------- tree updates

    def insert_block(self, block: Block) -> ExecutedBlock:
        """Execute a verified block whose parent is in the tree and persist it."""
        block_id = compute_block_id(block.block_data)
        existing = self.tree.get(block_id)
        if existing is not None:
            return existing
        parent = self.tree.get(block.parent_id)
        if parent is None:
            raise VerificationError("block's parent is not in the tree")
        executed = execute_block(self.state_computer, block, block_id, parent)
        self.store.save_tree([block], [])
        self.tree.insert_block(executed)
        return executed

    def add_qc(self, peer: AccountAddress, qc: QuorumCert, now_usecs: int) -> list[Action]:
        """Insert a verified QC (fetching its block if unknown), commit, advance the round."""
        if qc.round <= self.tree.root.round and qc.certified_block.id != self.tree.root.id:
            return []
        if not self.tree.contains(qc.certified_block.id):
            if len(self._orphan_qcs) < self.config.max_pending_fetches:
                self._orphan_qcs[qc.certified_block.id] = qc
            return self.sync.fetch(peer, qc.certified_block.id, qc.round, None, None)
        actions = self.insert_qc(qc)
        return actions + self.process_certificates(now_usecs)

    def adopt_orphan_qc(self, block_id: bytes, now_usecs: int) -> list[Action]:
        """Insert a QC that was formed (from votes) before its block arrived."""
        qc = self._orphan_qcs.pop(block_id, None)
        if qc is None or self.ended is not None:
            return []
        return self.insert_qc(qc) + self.process_certificates(now_usecs)

    def insert_qc(self, qc: QuorumCert) -> list[Action]:
        """Record a QC for a block in the tree, persist it and commit what it commits."""
        if self.tree.qc_for(qc.certified_block.id) is None:
            self.store.save_tree([], [qc])
        self.tree.insert_qc(qc)
        return self._commit(self.tree.highest_commit_cert)

    def add_tc(self, tc: TwoChainTimeoutCertificate, now_usecs: int) -> list[Action]:
        """Insert a verified TC and advance the round if it is the highest."""
        if self.tree.insert_tc(tc):
            self.store.save_highest_timeout_cert(tc)
        return self.process_certificates(now_usecs)

    def _commit(self, commit_cert: QuorumCert) -> list[Action]:
        """Commit the block that ``commit_cert`` commits, with its uncommitted ancestors."""
        info = commit_cert.commit_info
        if is_empty_commit(info) or info.round <= self.tree.root.round or not self.tree.contains(info.id):
            return []
        path, pruned = self.tree.commit(info.id)
        ledger_info = commit_cert.signed_ledger_info
        self.state_computer.commit(path, ledger_info)
        self.store.prune_tree(pruned)
        for block in path:
            self.leader_election.on_commit(commit_record(block.block))
        actions: list[Action] = [Commit(tuple(path), ledger_info)]
        if path[-1].info.next_epoch_state is not None:
            self.ended = ledger_info
            actions.append(EpochChange(ledger_info))
        return actions

    # ----------------------------------------------------------------------- rounds

    def _timeout_ms(self, round_: int) -> int:
        return compute_timeout_ms(self.config, round_, self.tree.highest_commit_cert.commit_info.round)

    def process_certificates(self, now_usecs: int) -> list[Action]:
        """Enter the round after the highest QC/TC if it is new; the leader proposes."""
        if self.ended is not None or not self.round_state.enter(self.tree.highest_certified_round + 1):
            return []
        round_ = self.current_round
        actions: list[Action] = [SetTimer(round_, self._timeout_ms(round_))]
        if self.can_sign and self.leader(round_) == self.author:
            actions += self._propose(now_usecs)
        return actions

    def _propose(self, now_usecs: int) -> list[Action]:
        """Build, sign and broadcast this round's proposal, then vote on it."""
        hqc = self.tree.highest_qc
        parent = self.tree.get(hqc.certified_block.id)
        if parent is None:
            return []
        if parent.info.next_epoch_state is not None:
            payload: tuple[bytes, ...] = ()
            timestamp = parent.info.timestamp_usecs
        else:
            pending = self.tree.path_from_root(parent.id) or []
            payload = self.payload_source.pull(self.config.max_block_txns, [b.block.payload for b in pending])
            timestamp = max(now_usecs, parent.info.timestamp_usecs + 1)
        data = BlockData(self.epoch, self.current_round, timestamp, hqc, BLOCK_PROPOSAL, payload, self.author)
        try:
            signature = self.safety_rules.sign_proposal(data)
        except SafetyError:
            return []
        block = Block(data, signature)
        msg = ProposalMsg(block, self.sync_info())
        return [Broadcast(msg), *self._execute_and_vote(block, max(now_usecs, timestamp))]


def _message_epoch(message: Message) -> int | None:
    if isinstance(message, ProposalMsg):
        return message.proposal.epoch
    if isinstance(message, VoteMsg):
        return message.vote.epoch
    if isinstance(message, TimeoutMsg):
        return message.timeout.epoch
    if isinstance(message, SyncInfo):
        return message.epoch
    return None
