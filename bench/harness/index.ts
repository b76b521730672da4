export { type CompareOptions, compareThroughput, type System } from './compare';
export { type BenchRow, formatNumber, printTable, ratios, renderTable, type TableOptions } from './table';
