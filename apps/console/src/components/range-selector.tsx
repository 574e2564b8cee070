import { DatePicker, Segmented, Space } from 'antd';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { useT } from '../i18n/index.tsx';
import { customRange, type RangePreset, rangeOf, type TimeRange } from './usage.ts';

const PRESETS: RangePreset[] = ['24h', '7d', '30d', '90d'];

/** A time range: presets, or any custom span. */
export function useTimeRange(initial: RangePreset = '7d') {
  const [preset, setPreset] = useState<RangePreset | 'custom'>(initial);
  const [range, setRange] = useState<TimeRange>(() => rangeOf(initial));
  const selector = (
    <RangeSelector
      preset={preset}
      onPreset={(p) => {
        setPreset(p);
        setRange(rangeOf(p));
      }}
      onCustom={(r) => {
        setPreset('custom');
        setRange(r);
      }}
    />
  );
  return { range, preset, selector };
}

function RangeSelector({
  preset,
  onPreset,
  onCustom,
}: {
  preset: RangePreset | 'custom';
  onPreset(p: RangePreset): void;
  onCustom(r: TimeRange): void;
}) {
  const t = useT();
  return (
    <Space wrap>
      <Segmented
        value={preset === 'custom' ? '' : preset}
        onChange={(v) => onPreset(v as RangePreset)}
        options={PRESETS.map((p) => ({ value: p, label: t(`range.${p}`) }))}
        data-testid="range-presets"
      />
      <DatePicker.RangePicker
        allowClear={false}
        onChange={(v) => {
          const [from, to] = (v ?? []) as [Dayjs | null, Dayjs | null];
          if (from && to) onCustom(customRange(from, to));
        }}
      />
    </Space>
  );
}
