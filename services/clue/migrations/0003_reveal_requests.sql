-- The two-person rule for the reporter's identity: a request with a reason, decided by
-- custodians (N approvals, or one refusal), then used once by the requester within a window.
-- Nothing here holds the identity itself (that stays sealed on clues.reporter_sealed).

CREATE TABLE reveal_requests (
  id                 uuid PRIMARY KEY,
  clue_id            uuid NOT NULL REFERENCES clues (id),
  -- Stored states; EXPIRED is derived (APPROVED with expires_at passed).
  state              text NOT NULL CHECK (state IN ('REVEAL_STATE_PENDING', 'REVEAL_STATE_APPROVED',
                                                    'REVEAL_STATE_REFUSED', 'REVEAL_STATE_USED')),
  requester          text NOT NULL,
  requester_unit_id  uuid NOT NULL,
  reason             text NOT NULL,
  approvals_needed   integer NOT NULL CHECK (approvals_needed >= 1),
  requested_at       timestamptz NOT NULL,
  approved_at        timestamptz,
  expires_at         timestamptz,
  used_at            timestamptz,
  version            bigint NOT NULL DEFAULT 1,
  CHECK ((state IN ('REVEAL_STATE_APPROVED', 'REVEAL_STATE_USED')) = (expires_at IS NOT NULL)),
  CHECK ((state = 'REVEAL_STATE_USED') = (used_at IS NOT NULL))
);
CREATE INDEX reveal_requests_clue ON reveal_requests (clue_id);
CREATE INDEX reveal_requests_requester ON reveal_requests (requester, requested_at DESC, id DESC);
CREATE INDEX reveal_requests_pending ON reveal_requests (requested_at DESC, id DESC)
  WHERE state = 'REVEAL_STATE_PENDING';

-- One row per custodian and request: a vote can be neither lost nor counted twice, even if
-- two decisions by the same custodian raced past the request's row lock.
CREATE TABLE reveal_decisions (
  reveal_request_id  uuid NOT NULL REFERENCES reveal_requests (id),
  custodian          text NOT NULL,
  custodian_unit_id  text NOT NULL,
  approve            boolean NOT NULL,
  reason             text NOT NULL DEFAULT '',
  decided_at         timestamptz NOT NULL,
  PRIMARY KEY (reveal_request_id, custodian)
);
