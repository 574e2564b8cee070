ALTER TABLE "providers" ADD COLUMN "endpoints" jsonb;--> statement-breakpoint
ALTER TABLE "replicas" DROP COLUMN "provider_id";