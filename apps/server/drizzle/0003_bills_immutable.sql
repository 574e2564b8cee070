-- A finalized bill and its lines never change again. Only deleting the whole org (a cascade,
-- seen as a nested trigger) takes them away.
CREATE OR REPLACE FUNCTION maas_bills_finalized_immutable() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN RETURN OLD; END IF;
  IF OLD.status = 'finalized' THEN
    RAISE EXCEPTION 'bill % is finalized and cannot change', OLD.id USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER bills_finalized_immutable BEFORE UPDATE OR DELETE ON bills
  FOR EACH ROW EXECUTE FUNCTION maas_bills_finalized_immutable();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION maas_bill_lines_finalized_immutable() RETURNS trigger AS $$
DECLARE
  bill_status text;
BEGIN
  IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN RETURN OLD; END IF;
  SELECT status INTO bill_status FROM bills WHERE id = COALESCE(OLD.bill_id, NEW.bill_id);
  IF bill_status = 'finalized' THEN
    RAISE EXCEPTION 'bill % is finalized and its lines cannot change', COALESCE(OLD.bill_id, NEW.bill_id)
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER bill_lines_finalized_immutable BEFORE INSERT OR UPDATE OR DELETE ON bill_lines
  FOR EACH ROW EXECUTE FUNCTION maas_bill_lines_finalized_immutable();
