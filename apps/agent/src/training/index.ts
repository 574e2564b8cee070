export { createHttpTrainingTransport } from './http-training-transport.ts';
export {
  defaultPreset,
  probeTorch,
  TRAINER_SCRIPT,
  type TrainerPreset,
  trainerArgs,
} from './trainer-preset.ts';
export { startTrainingLoop, type TrainingLoop, type TrainingLoopOptions } from './training-loop.ts';
