-- What a family reads and edits of its own account ("Mon compte", issue 20): the date its
-- quotient familial was last set (staff set it from the family's papers; the family sees its
-- bracket and since when), and its contact details ("Modifier les informations de la famille":
-- postal address, phones, the second guardian's contact), for the invoices and the town.
-- All personal data: anonymising a family clears them with its name.
ALTER TABLE families
    ADD COLUMN quotient_set_at        timestamptz,
    ADD COLUMN address                text,
    ADD COLUMN phone                  text,
    ADD COLUMN mobile_phone           text,
    ADD COLUMN second_guardian_name   text,
    ADD COLUMN second_guardian_phone  text,
    ADD COLUMN second_guardian_email  text;
