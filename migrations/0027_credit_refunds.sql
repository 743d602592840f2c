-- Refunds of a family's credit (issue 17, point 3): finance pays a family's credit (avoirs) back
-- by bank transfer. Such a refund has its own id and transfer reference and no payment or
-- reservation behind it; the refunds owed for a payment keep theirs, still unique per payment
-- and reservation.
ALTER TABLE refunds DROP CONSTRAINT refunds_pkey;
ALTER TABLE refunds
    ALTER COLUMN payment_id DROP NOT NULL,
    ALTER COLUMN reservation_id DROP NOT NULL,
    ADD COLUMN id        uuid UNIQUE,
    ADD COLUMN method    text NOT NULL DEFAULT 'due' CHECK (method IN ('due', 'transfer')),
    ADD COLUMN reference text,
    ADD CONSTRAINT refunds_of_a_payment_or_a_credit
        CHECK ((payment_id IS NOT NULL AND reservation_id IS NOT NULL) OR id IS NOT NULL);
CREATE UNIQUE INDEX refunds_payment_reservation ON refunds (payment_id, reservation_id);
