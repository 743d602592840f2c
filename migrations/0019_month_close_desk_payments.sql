-- Payments received at the finance desk (cheque, cash, bank transfer) are payments rows too,
-- settled when recorded, with their receipt number (gapless per organisation and year, from
-- invoice_counters' 'receipt' series) and the credit they left. A mistaken one is reversed by
-- an event, never deleted: the row keeps its status and says when it was reversed.
ALTER TABLE payments
    ADD COLUMN method         text           NOT NULL DEFAULT 'online',
    ADD COLUMN receipt_number text,
    ADD COLUMN credit_kept    numeric(12, 2) NOT NULL DEFAULT 0,
    ADD COLUMN reversed_at    timestamptz;
