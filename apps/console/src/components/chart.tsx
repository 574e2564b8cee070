import { theme } from 'antd';
import type { EChartsOption } from 'echarts';
import { BarChart, LineChart, PieChart } from 'echarts/charts';
import {
  DatasetComponent,
  GridComponent,
  LegendComponent,
  TitleComponent,
  TooltipComponent,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import ReactEChartsCore from 'echarts-for-react/lib/core';
import { useMemo } from 'react';
import { prefersReducedMotion, useThemeMode } from '../lib/theme.tsx';

echarts.use([
  LineChart,
  BarChart,
  PieChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  TitleComponent,
  DatasetComponent,
  CanvasRenderer,
]);

export const PALETTE = [
  '#4f7cff',
  '#36cfc9',
  '#ffa940',
  '#9254de',
  '#ff4d6d',
  '#73d13d',
  '#597ef7',
  '#f759ab',
  '#ffc53d',
  '#40a9ff',
];

/** An ECharts chart that follows the console theme (light / dark). */
export function Chart({
  option,
  height = 280,
  testId,
}: {
  option: EChartsOption;
  height?: number;
  testId?: string;
}) {
  const { isDark } = useThemeMode();
  const { token } = theme.useToken();
  const themed = useMemo<EChartsOption>(
    () => ({
      color: PALETTE,
      backgroundColor: 'transparent',
      animation: !prefersReducedMotion(),
      animationDuration: 400,
      animationDurationUpdate: 300,
      textStyle: { color: token.colorTextSecondary, fontFamily: token.fontFamily },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      tooltip: {
        trigger: 'axis',
        backgroundColor: token.colorBgElevated,
        borderColor: token.colorBorderSecondary,
        textStyle: { color: token.colorText },
      },
      legend: { top: 0, textStyle: { color: token.colorTextSecondary } },
      ...option,
    }),
    [option, token],
  );
  return (
    <div data-testid={testId}>
      <ReactEChartsCore
        echarts={echarts}
        option={themed}
        theme={isDark ? 'dark' : undefined}
        notMerge
        lazyUpdate
        style={{ height, width: '100%' }}
      />
    </div>
  );
}

/** Axis styling shared by the time-series charts. */
export function useAxisStyle() {
  const { token } = theme.useToken();
  return {
    axisLine: { lineStyle: { color: token.colorBorder } },
    splitLine: { lineStyle: { color: token.colorBorderSecondary } },
    axisLabel: { color: token.colorTextSecondary },
  };
}
