ALTER TABLE "batches" DROP COLUMN "lease_owner";--> statement-breakpoint
ALTER TABLE "batches" DROP COLUMN "lease_until";