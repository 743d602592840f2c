-- Issue 19, point 2 for the town this install serves: the login page says whose portal it is,
-- as the first guide's page does (name, address, phone, how to reach the canteen's office, the
-- town's site). Name and address already identify the organisation on its invoices; the contact
-- details are the administrators' to keep up to date, so they are read on every page, not cached.
ALTER TABLE organisations
    ADD COLUMN phone         text NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
    ADD COLUMN contact_email text NOT NULL DEFAULT '' CHECK (length(contact_email) <= 254),
    ADD COLUMN website       text NOT NULL DEFAULT '' CHECK (length(website) <= 300);
