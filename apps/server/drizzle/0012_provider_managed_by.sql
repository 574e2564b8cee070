ALTER TABLE "providers" ADD COLUMN "managed_by" text;--> statement-breakpoint
-- replicas' providers made before this column are the fleet's
UPDATE "providers" SET "managed_by" = 'fleet' WHERE "id" IN (SELECT "provider_id" FROM "replicas" WHERE "provider_id" IS NOT NULL);
