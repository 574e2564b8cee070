ALTER TABLE "knowledge_chunks" ADD COLUMN "headings" jsonb;--> statement-breakpoint
ALTER TABLE "knowledge_chunks" ADD COLUMN "context" text;