ALTER TABLE "fine_tuning_checkpoints" ADD COLUMN "file_id" text;--> statement-breakpoint
ALTER TABLE "fine_tuning_jobs" ADD COLUMN "result_file_id" text;