ALTER TABLE "batches" ADD COLUMN "hold_model" text;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "estimate_tokens" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "batches" ADD COLUMN "estimate_cost_micros" bigint DEFAULT 0 NOT NULL;