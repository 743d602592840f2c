-- A payment may pay invoices (billed-later months) as well as reservations: an invoice is in
-- one pending payment at a time, as a reservation is.
ALTER TABLE payments ADD COLUMN invoice_ids uuid[] NOT NULL DEFAULT '{}';
